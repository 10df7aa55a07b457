// Moving a process into the cgroups another one is in (exec joins its container's cgroups),
// on cgroup v2, v1 or the hybrid of both. Placement of the container itself is the cgroup
// drivers' business; this only follows where the init already is.
#pragma once

#include <sys/types.h>

namespace droplet {

// Moves the calling process into every cgroup of `pid` that differs from its own.
// Throws naming the cgroup.procs file that refused.
void join_cgroups_of(pid_t pid);

} // namespace droplet
