// condenser's side of droplet-shim: where a container's files are, starting its shim, reading
// what the shim recorded (shim.json, exit) and running the OCI runtime for `kill`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "container_records.hpp"

namespace condenser {

struct ShimSettings {
    std::string shim_path;    // droplet-shim
    std::string runtime_path; // droplet, crun or runc
    std::filesystem::path containers_dir; // <state>/containers: bundles and logs (survive reboots)
    std::filesystem::path run_dir;        // <run>/containers: shim state (gone with the machine)
};

struct ContainerPaths {
    std::filesystem::path bundle; // <containers_dir>/<id>
    std::filesystem::path shim;   // <run_dir>/<id>: shim.json, exit, ctl
    std::filesystem::path log;    // <bundle>/container.log
};
ContainerPaths container_paths(const ShimSettings& settings, const std::string& id);

// Starts the container's shim: the container is created (and started with `start`) when this
// returns. Throws raind::Error with the shim's or runtime's message. A previous shim's files
// must be gone (remove_shim_state).
void launch_shim(const ShimSettings& settings, const ContainerRecord& record, bool start);

// Removes the shim's state directory (after the shim is done).
void remove_shim_state(const ShimSettings& settings, const std::string& id);

// What the shim's files say.
struct ShimStatus {
    bool alive = false;          // its control socket answers
    std::string status;          // created, running, restarting, exited; empty without shim.json
    pid_t pid = 0;               // the container's init while it runs
    std::optional<int> exit_status; // of the last exit (code, or 128+signal)
    int64_t finished = 0;        // unix seconds of the last exit
};
ShimStatus read_shim_status(const std::filesystem::path& shim_dir);

// `<runtime> pause|resume <id>`; throws raind::Error with the runtime's message.
void runtime_pause(const ShimSettings& settings, const std::string& id, bool pause);

// `<runtime> kill <id> <signal>`; throws raind::Error with the runtime's message.
void runtime_kill(const ShimSettings& settings, const std::string& id, int signal);

// Runs argv (argv[0] a path) with stdin and stdout on /dev/null, an empty signal mask and
// default dispositions; returns the exit status and what it wrote to stderr.
struct ProgramResult {
    int status = -1;
    std::string error;
};
ProgramResult run_program(const std::vector<std::string>& argv);

} // namespace condenser
