// Paths inside the container's root filesystem, resolved so that nothing in the image (a symlink
// to "/", "..", a /proc magic link) can make droplet touch the host.
#pragma once

#include <optional>
#include <string>

#include "fd.hpp"

namespace droplet {

// "/a/./b//c/../d" -> "/a/b/d". Returns nullopt when ".." would climb above "/".
// `path` must be absolute.
std::optional<std::string> clean_absolute_path(const std::string& path);

// Opens `path` as if `root_fd` were "/" (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
// Returns an empty fd when the path does not exist; throws raind::SystemError otherwise.
raind::UniqueFd open_in_root(int root_fd, const std::string& path, int flags);

enum class CreateKind { directory, file };

// Opens (O_PATH) `path` inside `root_fd`, creating the missing directories on the way and the
// last component as `kind`. Symlinks met on the way are followed inside the root, so a dangling
// `mnt -> /tmp/hostdir` in the image creates rootfs/tmp/hostdir, never /tmp/hostdir.
raind::UniqueFd create_in_root(int root_fd, const std::string& path, CreateKind kind);

// "/proc/self/fd/N": how mount(2) names an fd we already hold.
std::string fd_path(int fd);

} // namespace droplet
