// The container's /dev: the default devices and linux.devices, /dev/ptmx, the /dev/fd and std*
// symlinks, and /dev/console.
#pragma once

#include <vector>

#include "rootfs.hpp"
#include "spec.hpp"

namespace droplet {

// null, zero, full, random, urandom, tty with linux.devices merged in (a spec entry with the same
// path replaces the default one).
std::vector<Device> container_devices(const Spec& spec);

// False when /dev is a bind mount (of the host's /dev): nothing is created in it then.
bool needs_dev_setup(const Spec& spec);

// Runs after spec.mounts, so /dev is usually the container's tmpfs by now. In a user namespace
// mknod is not allowed: each device is a bind mount of the host's node instead.
void setup_dev(int root_fd, const Spec& spec, const RootfsOptions& options);

} // namespace droplet
