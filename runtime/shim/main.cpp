// droplet-shim: starts the monitor of one container in the background (see shim.hpp, control.hpp).
#include <CLI/CLI.hpp>
#include <filesystem>

#include "error.hpp"
#include "raind-config.h"
#include "shim.hpp"

int main(int argc, char** argv) {
    CLI::App app{"droplet-shim: the parent and monitor of one container (creates it with the OCI runtime, "
                 "keeps its pty or pipes, logs its output, records its exit, applies the restart policy)",
                 "droplet-shim"};
    app.set_version_flag("--version", "droplet-shim version " RAIND_VERSION);
    shim::ShimOptions o;
    std::string restart = "no";
    app.add_option("--id", o.id, "container id (given to the runtime)")->required();
    app.add_option("--bundle", o.bundle, "OCI bundle directory")->required()->check(CLI::ExistingDirectory);
    app.add_option("--state-dir", o.state_dir, "the shim's own directory (shim.json, exit, ctl socket)")
        ->required()->check(CLI::ExistingDirectory);
    app.add_option("--runtime", o.runtime.path, "OCI runtime binary (droplet, crun, runc)")
        ->required()->check(CLI::ExistingFile);
    app.add_option("--runtime-arg", o.runtime.global_args, "argument put before the runtime's verb (repeatable)")
        ->allow_extra_args(false);
    app.add_flag("--systemd-cgroup", o.runtime.systemd_cgroup, "pass --systemd-cgroup to the runtime");
    app.add_option("--name", o.name, "container name (CONTAINER_NAME in the journal)");
    app.add_option("--log-path", o.log_path, "log file in the CRI format (appended)");
    app.add_option("--journald", o.journald, "also log to the journal: auto (when journald runs), yes, no")
        ->check(CLI::IsMember({"auto", "yes", "no"}))->capture_default_str();
    app.add_flag("--terminal", o.terminal, "the container has a pty (process.terminal in config.json)");
    app.add_flag("--stdin", o.stdin_open, "without --terminal: keep the container's stdin open for attach");
    app.add_flag("--stdin-once", o.stdin_once, "close stdin when the first attached client ends its input");
    app.add_flag("--start", o.start, "start right after create instead of waiting for the start command");
    app.add_flag("--rm", o.remove, "after the container is done, remove every file of the shim");
    app.add_option("--restart", restart, "no | on-failure[:N] | always | unless-stopped")->capture_default_str();
    try {
        app.parse(argc, argv);
        o.restart = shim::parse_restart_policy(restart);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const raind::Error& e) {
        std::fprintf(stderr, "droplet-shim: %s\n", e.what());
        return 2;
    }
    // The shim runs from /, so every path it keeps must be absolute.
    for (std::string* p : {&o.bundle, &o.state_dir, &o.log_path, &o.runtime.path})
        if (!p->empty())
            *p = std::filesystem::absolute(*p).lexically_normal().string();
    return shim::launch(o);
}
