// droplet-shim: the parent and monitor of one container (conmon's role for Podman).
#pragma once

#include <string>

#include "restart_policy.hpp"
#include "runtime_call.hpp"

namespace shim {

struct ShimOptions {
    std::string id;
    std::string name;       // CONTAINER_NAME in the journal
    std::string bundle;
    std::string state_dir;  // the shim's own files: shim.json, exit, ctl, console socket, pid file
    std::string log_path;   // CRI-format log file; empty: none
    std::string journald = "auto"; // auto (when journald runs) | yes | no
    Runtime runtime;
    bool terminal = false;     // the container gets a pty (process.terminal must be true)
    bool stdin_open = false;   // without a pty: keep a stdin pipe that attach clients write to
    bool stdin_once = false;   // close that pipe when the first attached client ends its input
    bool start = false;        // start right after create instead of waiting for `start`
    bool remove = false;       // --rm: after the last exit leave no file of ours behind
    RestartPolicy restart;
};

// Forks the shim into the background (new session, stdio on /dev/null), waits until the
// container is created (and started with `start`), and returns: 0 once it is, or 1 after
// printing the runtime's error to stderr. The shim keeps running on its own.
int launch(const ShimOptions& options);

// The shim itself, in this process: create, report "ok <pid>" or "error <text>" on
// `ready_fd`, then monitor until the container is done for good. Returns the exit status.
int run_shim(const ShimOptions& options, int ready_fd);

} // namespace shim
