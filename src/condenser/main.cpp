// condenser: the raind daemon. Started by systemd (D-Bus activation, Type=notify).
#include <CLI/CLI.hpp>

#include "daemon.hpp"
#include "error.hpp"
#include "log.hpp"
#include "raind-config.h"

int main(int argc, char** argv) {
    condenser::DaemonOptions options;
    options.settings.state_dir = RAIND_STATE_DIR;
    options.settings.runtime_path = RAIND_BINDIR "/droplet";
    options.settings.shim_path = RAIND_LIBEXECDIR "/droplet-shim";
    unsigned idle_seconds = 60;

    CLI::App app{"condenser: the raind container daemon", "condenser"};
    app.set_version_flag("--version", "condenser version " RAIND_VERSION);
    app.add_option("--state-dir", options.settings.state_dir, "where images, containers and the database live")
        ->capture_default_str();
    app.add_option("--runtime", options.settings.runtime_path, "OCI runtime to run containers with")
        ->capture_default_str();
    app.add_option("--shim", options.settings.shim_path, "droplet-shim, the per-container monitor")
        ->capture_default_str();
    app.add_option("--run-dir", options.settings.run_dir, "runtime state (the shims' directories)")
        ->capture_default_str();
    app.add_option("--registries-conf", options.settings.registries_conf,
                   "registry settings: insecure registries, certificate directories, mirrors")
        ->capture_default_str();
    app.add_option("--idle-timeout", idle_seconds, "exit after this many idle seconds (0 = never)")
        ->capture_default_str();
    app.add_option("--bus-name", options.bus_name, "well-known bus name to own")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    options.idle_timeout = std::chrono::seconds(idle_seconds);

    raind::log::configure("condenser", raind::log::Level::info);
    try {
        return condenser::run_daemon(options);
    } catch (const std::exception& e) {
        raind::log::error(e.what());
        return 1;
    }
}
