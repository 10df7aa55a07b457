// The default seccomp profile of a container (linux.seccomp): everything allowed except the
// system calls that reach past the container — kernel modules, kexec, reboot, swap, clocks,
// keyrings, bpf, perf, new namespaces — as Docker's default profile denies them to containers
// without CAP_SYS_ADMIN. A denylist, so programs using new system calls keep working.
#pragma once

#include <nlohmann/json.hpp>

namespace condenser {

nlohmann::json default_seccomp_profile();

} // namespace condenser
