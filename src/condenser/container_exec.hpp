// A process run in a running container: its process.json (from the container's own, with the
// command, env, user and working directory of the request) handed to the shim's `exec`.
#pragma once

#include <map>
#include <optional>
#include <sdbus-c++/Types.h>
#include <string>
#include <vector>

#include "container_shim.hpp"
#include "control.hpp"

namespace condenser {

struct ExecOptions {
    bool tty = false;
    std::vector<std::string> env;
    std::optional<std::string> user, workdir;
};

// Refuses unknown keys and wrong types by name (InvalidContainerArgument).
ExecOptions parse_exec_options(const std::map<std::string, sdbus::Variant>& options);

// Runs `command` through the shim in `paths.shim`; the process file is gone again when this returns.
shim::ExecSession exec_in_container(const ContainerPaths& paths, const std::vector<std::string>& command,
                                    const ExecOptions& options);

} // namespace condenser
