// The a{sv} options of CreateContainer: parsed and checked on the loop thread (before anything
// changes), then applied to the image config and to config.json. A key that is unknown, of the
// wrong type or not supported yet is an InvalidContainerArgument naming it: never ignored.
#pragma once

#include <sdbus-c++/Types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "image_config.hpp"

namespace condenser {

struct BindVolume {
    std::string source;      // absolute host path
    std::string destination; // absolute container path
    bool read_only = false;
};

struct TmpfsMount {
    std::string destination;
    std::vector<std::string> options; // size=…, mode=…
};

struct ContainerOptions {
    std::string name; // empty: raind_<id prefix>
    std::vector<std::string> env;
    std::optional<std::string> workdir, user, hostname;
    std::optional<std::vector<std::string>> entrypoint;
    bool tty = false;
    bool interactive = false;
    bool auto_remove = false;
    bool read_only = false;
    bool no_new_privileges = false;
    bool seccomp = true; // the default profile; security_opt seccomp=unconfined turns it off
    std::map<std::string, std::string> labels;
    std::string restart = "no";
    std::string network = "none";
    std::optional<uint64_t> memory;
    std::optional<double> cpus;
    std::optional<int64_t> pids_limit;
    std::vector<std::string> cap_add, cap_drop; // CAP_… or ALL
    std::vector<BindVolume> volumes;
    std::vector<TmpfsMount> tmpfs;
};

ContainerOptions parse_container_options(const std::map<std::string, sdbus::Variant>& options);

// "host:container[:ro|rw]"; throws InvalidContainerArgument naming the spec.
BindVolume parse_volume(const std::string& spec);
// "CAP_NET_ADMIN", "net_admin" -> "CAP_NET_ADMIN"; "ALL" stays; unknown names throw.
std::string normalize_capability(const std::string& name);

// The image config with the fields the options replace (Entrypoint, which also drops Cmd as
// Docker does; WorkingDir; User).
raind::images::ImageConfig apply_to_image(raind::images::ImageConfig image, const ContainerOptions& options);
// The rest of the options in config.json (terminal, hostname, namespaces, resources,
// capabilities, mounts, read-only root, no_new_privs).
void apply_to_spec(nlohmann::json& spec, const ContainerOptions& options);

// Docker's rule for names, [a-zA-Z0-9][a-zA-Z0-9_.-]*; throws InvalidContainerArgument.
void check_container_name(const std::string& name);

// A signal by name ("KILL", "SIGKILL") or number; throws InvalidContainerArgument.
int parse_signal(const std::string& text);

} // namespace condenser
