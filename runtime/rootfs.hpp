// The container's root filesystem: mounts, /dev, pivot_root, masked and read-only paths, sysctls.
// Everything here runs in the container's init process, inside its own mount namespace.
#pragma once

#include <string>

#include "spec.hpp"

namespace droplet {

struct RootfsOptions {
    bool no_pivot = false;          // --no-pivot: MS_MOVE + chroot instead of pivot_root
    bool in_user_namespace = false; // devices are bind-mounted from the host, not mknod'ed
    std::string console_path;       // pty slave to bind on /dev/console ("" = none)
};

// Checked by `create` before anything is created: every mount destination is absolute and
// cannot climb out of the rootfs, types/options are known, masked/readonly paths are absolute.
// Throws raind::Error naming the offending mount.
void validate_rootfs(const Spec& spec);

// Stage 1 (before the createContainer hooks): makes the rootfs a mount point with the requested
// propagation and mounts spec.mounts in order plus the default /dev. `rootfs` is absolute.
// Every target is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), so a symlink in the
// image can never point a mount at the host.
void prepare_rootfs(const Spec& spec, const std::string& rootfs, const RootfsOptions& options);

// Stage 2 (after the createContainer hooks): pivot_root (or the no_pivot fallback), then
// sysctls, masked and read-only paths, and the read-only root. Leaves cwd at "/".
void finish_rootfs(const Spec& spec, const std::string& rootfs, const RootfsOptions& options);

} // namespace droplet
