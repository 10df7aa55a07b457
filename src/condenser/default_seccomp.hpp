// The seccomp profile every container gets unless told otherwise: Docker's default policy
// (deny by default with EPERM, allow the ordinary syscalls, open the privileged groups only to
// a container that holds the capability guarding them), written as our own tables.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace condenser {

// linux.seccomp of config.json for a container with `capabilities` ("CAP_SYS_ADMIN", …: its
// bounding set, what any of its processes can come to hold), for the architectures of this build (x86_64 with x86 and x32,
// aarch64 with arm; elsewhere libseccomp's native one).
nlohmann::json default_seccomp_profile(const std::vector<std::string>& capabilities);

// The architecture names profiles are written against. `go_name` is what Docker's profile
// format uses in "arches" conditions ("amd64", "arm64"); `native` and `compat` are the OCI
// SCMP_ARCH_* names the filter covers (empty native: let libseccomp pick).
struct SeccompArchitecture {
    std::string go_name;
    std::string native;
    std::vector<std::string> compat;
};
const SeccompArchitecture& build_architecture();

} // namespace condenser
