// The flags `raind create` and `raind run` share, turned into CreateContainer's a{sv} options.
#pragma once

#include <sdbus-c++/Types.h>

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace raind::cli {

struct ContainerFlags {
    std::string pull = "missing"; // missing | always | never
    std::string name, workdir, user, entrypoint, hostname, network, restart, memory, pids_limit;
    bool entrypoint_set = false;
    double cpus = 0;
    bool tty = false, interactive = false, auto_remove = false, read_only = false;
    std::vector<std::string> env, env_files, volumes, labels, cap_add, cap_drop, tmpfs, security_opt;

    // IMAGE and COMMAND: everything from the first positional argument on (prefix_command).
    std::string image;
    std::vector<std::string> command;
};

// Adds the flags to `command` (which must use prefix_command()).
std::shared_ptr<ContainerFlags> add_container_flags(CLI::App& command);

// Splits command.remaining() into image and command; throws CLI::ValidationError without an image.
void take_image_and_command(CLI::App& command, ContainerFlags& flags);

// CreateContainer's options for what was given; throws raind::Error on a malformed value
// (memory "12x", env file missing, label without '=').
std::map<std::string, sdbus::Variant> container_options(const ContainerFlags& flags);

// "64m" -> 67108864 (b, k, m, g; 1024-based, as Docker).
uint64_t parse_bytes(const std::string& text);

} // namespace raind::cli
