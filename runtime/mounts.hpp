// One config.json mount placed inside the container's rootfs, in the init's mount namespace.
#pragma once

#include <cstddef>
#include <string>

#include "spec.hpp"

namespace droplet {

struct MountTarget {
    int root_fd;              // O_PATH fd of the rootfs: every destination resolves below it
    std::string rootfs;       // for error messages
    bool in_user_namespace;   // locked mount flags, sysfs fallback
    bool cgroup_namespace;    // the container has its own cgroup namespace
};

// The "/proc" files a mount may cover (lxcfs-style); anything else under /proc is refused, so an
// image cannot steer a mount over, say, /proc/self/attr.
bool is_allowed_proc_destination(const std::string& clean_destination);

// Mounts `mount` (spec.mounts[index]). Throws raind::Error naming the mount and the reason.
void mount_entry(const MountTarget& target, const Mount& mount, size_t index);

} // namespace droplet
