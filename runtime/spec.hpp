// The OCI runtime-spec config.json (1.0–1.2) as droplet uses it.
// Parsing and validation live in spec.cpp; every other file reads these structs, never raw JSON.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace droplet {

struct Rlimit {
    std::string type; // "RLIMIT_NOFILE"
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct Capabilities {
    std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct User {
    uid_t uid = 0;
    gid_t gid = 0;
    std::optional<mode_t> umask;
    std::vector<gid_t> additional_gids;
};

struct ConsoleSize {
    unsigned height = 0;
    unsigned width = 0;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::string apparmor_profile;
    std::optional<int> oom_score_adj;
    std::string selinux_label;
};

struct Root {
    std::string path; // as written in config.json (relative to the bundle or absolute)
    bool readonly = false;
};

struct Mount {
    std::string destination;
    std::string type;
    std::string source;
    std::vector<std::string> options;
    // user-namespace idmapped mounts (1.1+): kept for validation, not implemented yet
    bool has_id_mappings = false;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout; // seconds
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};

struct IdMapping {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
};

struct Namespace {
    std::string type; // pid, network, mount, ipc, uts, user, cgroup, time
    std::string path; // empty: create a new one
};

struct Device {
    std::string path;
    char type = 'c'; // c, b, u, p
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<mode_t> file_mode;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
};

struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    std::vector<Device> devices;
    std::string cgroups_path;
    // linux.resources is interpreted by the cgroup drivers; kept as JSON text so
    // they see every field the caller wrote.
    std::string resources_json;
    std::string rootfs_propagation; // "", shared, slave, private, unbindable (and r* forms)
    std::vector<std::string> masked_paths, readonly_paths;
    std::string mount_label;
    std::map<std::string, std::string> sysctl;
    std::string seccomp_json; // linux.seccomp as JSON text, compiled by seccomp.cpp
    std::map<std::string, TimeOffset> time_offsets; // "monotonic", "boottime"
    std::string personality_domain;
};

struct Spec {
    std::string oci_version;
    Process process;
    bool has_process = false; // process is optional for `create` of some callers, required to start
    Root root;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    Linux linux;

    bool has_namespace(const std::string& type) const;
    const Namespace* find_namespace(const std::string& type) const;
};

// Parses and validates config.json text. Throws raind::Error naming the field at fault
// ("config.json: process.args: must be a non-empty array of strings").
Spec parse_spec(const std::string& json_text);
Spec load_spec(const std::string& bundle_dir);

// Parses a process.json (exec --process): the same schema as spec.process.
Process parse_process(const std::string& json_text);

// The default spec `droplet spec` writes (the same shape runc and crun write).
nlohmann::json default_spec(bool rootless);

} // namespace droplet
