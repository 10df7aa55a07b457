// droplet: an OCI runtime with the runc/crun command line. Each verb is one file in commands/.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>

#include "cloned_binary.hpp"
#include "commands/commands.hpp"
#include "error.hpp"
#include "log.hpp"
#include "raind-config.h"

namespace {

// Only the verbs that put a process into a container need the sealed copy (CVE-2019-5736);
// the others skip its cost.
bool starts_container_process(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (a[0] == '-') {
            bool takes_value = !std::strchr(a, '=') && (!std::strcmp(a, "--root") || !std::strcmp(a, "--log") ||
                                                        !std::strcmp(a, "--log-format") || !std::strcmp(a, "--criu") ||
                                                        !std::strcmp(a, "--rootless"));
            i += takes_value;
            continue;
        }
        return !std::strcmp(a, "create") || !std::strcmp(a, "run") || !std::strcmp(a, "exec");
    }
    return false;
}

} // namespace

int main(int argc, char** argv) {
    if (starts_container_process(argc, argv)) {
        try {
            droplet::ensure_cloned_binary(argv, environ);
        } catch (const raind::Error& e) {
            raind::log::error(e.what());
            return 1;
        }
    }
    // A caller that ignores SIGCHLD would make our children vanish before we can wait for them.
    ::signal(SIGCHLD, SIG_DFL);

    CLI::App app{"droplet: an OCI container runtime", "droplet"};
    app.set_version_flag("-v,--version", "droplet version " RAIND_VERSION "\nspec: 1.2.0");
    app.require_subcommand(1);
    droplet::GlobalOptions global;
    app.add_option("--root", global.root, "state directory")->capture_default_str();
    app.add_option("--log", global.log, "log file (errors also go to stderr)");
    app.add_option("--log-format", global.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--debug", global.debug, "log debug messages");
    app.add_flag("--systemd-cgroup", global.systemd_cgroup, "place the container in a systemd scope");
    app.add_option("--rootless", global.rootless, "accepted for runc compatibility");
    app.add_option("--criu", "accepted for runc compatibility");

    std::vector<droplet::Command> commands = {
        droplet::add_create(app, global), droplet::add_start(app, global),  droplet::add_run(app, global),
        droplet::add_state(app, global),  droplet::add_kill(app, global),   droplet::add_delete(app, global),
        droplet::add_exec(app, global),   droplet::add_list(app, global),   droplet::add_ps(app, global),
        droplet::add_spec(app, global),   droplet::add_features(app, global), droplet::add_pause(app, global),
        droplet::add_resume(app, global), droplet::add_update(app, global),   droplet::add_events(app, global),
    };
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    raind::log::configure("droplet", global.debug ? raind::log::Level::debug : raind::log::Level::warning,
                          global.log, global.log_format == "json" ? raind::log::Format::json : raind::log::Format::text);
    for (auto& command : commands) {
        if (!command.app->parsed())
            continue;
        try {
            return command.run();
        } catch (const std::exception& e) {
            raind::log::error(e.what());
            return 1;
        }
    }
    return 1;
}
