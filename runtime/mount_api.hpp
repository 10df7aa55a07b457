// The fd-based mount syscalls (open_tree, move_mount, mount_setattr, fsopen): they act on fds we
// already resolved safely instead of re-walking a path the image could have changed.
#pragma once

#include <cstdint>
#include <string>

#include "fd.hpp"

namespace droplet {

// A detached copy of the mount tree at `dirfd`/`path` ("" = dirfd itself): a bind mount not yet
// attached anywhere. `what` names the operation in errors.
raind::UniqueFd clone_tree(int dirfd, const std::string& path, bool recursive, const std::string& what);

// Attaches a detached tree (clone_tree, fsmount) on top of `target_fd`.
void attach_tree(int tree_fd, int target_fd, const std::string& what);

// mount_setattr(2) on the mount `fd` is the root of (or each mount below it when `recursive`).
void set_mount_attributes(int fd, uint64_t set, uint64_t clear, bool recursive, const std::string& what);

// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, recursive when MS_REC is in `flags`.
void set_propagation(int fd, unsigned long flags, const std::string& what);

// MS_RDONLY|MS_NOSUID… -> MOUNT_ATTR_*; the atime mode maps only when `with_atime`.
uint64_t mount_attributes_from_flags(unsigned long flags, bool with_atime);

// A new, detached, read-only, empty tmpfs (to hide a directory).
raind::UniqueFd empty_readonly_tmpfs(const std::string& what);

} // namespace droplet
