// Which seccomp profile a container gets (`--security-opt seccomp=…`, the "seccomp_profile"
// option) and the conversion of a profile file, OCI linux.seccomp or Docker's format with
// archMap and includes/excludes conditions, into config.json's linux.seccomp.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace condenser {

struct SeccompChoice {
    enum class Mode { default_profile, unconfined, custom };
    Mode mode = Mode::default_profile;
    std::string profile; // custom: the profile's JSON text
    std::string source;  // custom: where it came from, for errors ("/etc/p.json", "option seccomp_profile")
};

// Takes "seccomp=unconfined", "seccomp=/abs/path.json" (a file on the daemon's host, read now)
// or "seccomp={…}" (the profile itself, as Docker's API sends it) into `choice`; returns false
// for an option that is not about seccomp. A second seccomp choice, an unreadable file or a
// malformed profile throws InvalidContainerArgument naming it.
bool take_seccomp_security_opt(const std::string& option, SeccompChoice& choice);

// The "seccomp_profile" option: the profile's text, as the raind CLI reads it from the file
// `--security-opt seccomp=FILE` names (Docker's CLI does the same).
void take_seccomp_profile_text(const std::string& text, SeccompChoice& choice);

// `text` (from `source`) as linux.seccomp for a container with capabilities `caps` on this
// build's architecture: Docker's conditions are evaluated and dropped, its archMap becomes
// "architectures". Throws InvalidContainerArgument "seccomp profile <source>: <field>: <why>".
nlohmann::json convert_seccomp_profile(const std::string& text, const std::string& source,
                                       const std::vector<std::string>& caps);

// Sets linux.seccomp of `spec` as `choice` says, for the capabilities in its
// process.capabilities.bounding (so call it after cap_add/cap_drop are applied).
void apply_seccomp(nlohmann::json& spec, const SeccompChoice& choice);

} // namespace condenser
