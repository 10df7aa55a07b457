// The container lifecycle as droplet's verbs drive it: create, start, kill, delete.
#pragma once

#include <string>

#include "fd.hpp"
#include "state.hpp"

namespace droplet {

struct CreateOptions {
    std::string id;
    std::string bundle;
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false;
    bool systemd_cgroup = false; // --systemd-cgroup
    unsigned preserve_fds = 0;
    // `run` in the foreground with a terminal and no console socket keeps the pty master.
    bool keep_console = false;
};

struct CreatedContainer {
    ContainerState state;
    raind::UniqueFd pidfd;
    raind::UniqueFd console_master; // only with keep_console
};

// Returns once the container is `created`: the init is parked and state.json is written.
// On any failure nothing is left: no state directory, no process.
CreatedContainer create_container(const std::string& root, const CreateOptions& options);

// Releases the parked init; returns once the user program has been executed (its errors are
// reported here) and the poststart hooks have run.
void start_container(const std::string& root, const std::string& id);

void kill_container(const std::string& root, const std::string& id, int signal, bool all);

// Destroys a stopped container (or, with force, kills a created or running one first), removes
// its state and runs the poststop hooks.
void delete_container(const std::string& root, const std::string& id, bool force);

} // namespace droplet
