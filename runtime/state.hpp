// A container's state directory (<root>/<id>/): state.json, the saved config.json, the start socket.
// The status is derived from what the kernel says about the init, never trusted from the file alone.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "fd.hpp"

namespace droplet {

inline constexpr const char* default_state_root = "/run/droplet";

enum class Status { creating, created, running, stopped };
const char* status_name(Status status);

struct ContainerState {
    std::string oci_version;
    std::string id;
    std::string bundle;
    std::string rootfs;
    pid_t pid = 0;
    uint64_t pid_start_time = 0; // /proc/<pid>/stat field 22: a reused pid never matches
    std::string created;         // RFC 3339, UTC
    uid_t owner = 0;
    std::map<std::string, std::string> annotations;
    // Where the container's cgroup is (cgroup.hpp's CgroupRecord); driver "" when cgroups are disabled.
    std::string cgroup_driver, cgroup_path, cgroup_unit;
};

// Rejects ids that are empty, too long or could leave the state root.
void validate_id(const std::string& id);

std::string state_dir(const std::string& root, const std::string& id);
inline constexpr const char* start_socket_name = "start.sock";
inline constexpr const char* config_copy_name = "config.json";

// Throws "container "x" does not exist" when there is no state.
ContainerState load_state(const std::string& root, const std::string& id);
void save_state(const std::string& dir, const ContainerState& state);
std::vector<std::string> list_ids(const std::string& root);

Status current_status(const std::string& root, const ContainerState& state);

// The runtime-spec state document (what `state` prints and hooks read on stdin).
nlohmann::json state_document(const ContainerState& state, Status status);
std::string state_text(const ContainerState& state, Status status);

// 0 when the process is gone. Reads the start time from /proc/<pid>/stat.
uint64_t process_start_time(pid_t pid);
// 'R', 'S', 'Z', … or 0 when the process is gone.
char process_state(pid_t pid);

// A pidfd for the container's init, or an empty fd when it is gone or the pid was reused.
raind::UniqueFd open_init_pidfd(const ContainerState& state);

// Pids of every process in the container (its pid namespace, or the init's descendants
// when it shares the host's), init first.
std::vector<pid_t> container_pids(const ContainerState& state);

// Removes the state directory and what is in it; quiet when it is already gone.
void remove_state_dir(const std::string& dir) noexcept;

std::string now_rfc3339();

} // namespace droplet
