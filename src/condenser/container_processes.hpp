// A container's processes and freezer state, from its cgroup (v2) and /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace condenser {

// The cgroup v2 directory of `pid` (under /sys/fs/cgroup, or /sys/fs/cgroup/unified on a
// hybrid host); empty when it cannot be found.
std::string cgroup_dir_of(pid_t pid);

// Whether that cgroup is frozen (cgroup.freeze).
bool cgroup_frozen(pid_t pid);

struct ProcessInfo {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint32_t uid = 0;
    std::string command; // the command line, arguments joined by spaces
};
// Every process in the cgroup of `init` (the container's), in pid order.
std::vector<ProcessInfo> processes_in_cgroup_of(pid_t init);

// Resource use of the cgroup of `init`: what the kernel counts there; a counter whose
// controller is not enabled is left out ("cpu_usec" from cpu.stat, "memory_bytes",
// "memory_max" from memory.*, "pids" from pids.current or else cgroup.procs).
std::map<std::string, uint64_t> cgroup_stats_of(pid_t init);

} // namespace condenser
