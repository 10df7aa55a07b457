// raind: the command line a person uses. Each verb is one file under commands/.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"
#include "raind-config.h"

namespace raind::cli {

namespace {
Action chosen;
} // namespace

void set_action(CLI::App& command, Action action) {
    command.callback([action = std::move(action)] { chosen = action; });
}

} // namespace raind::cli

int main(int argc, char** argv) {
    using namespace raind::cli;
    CLI::App app{"raind: run and manage containers through condenser", "raind"};
    app.set_version_flag("--version", "raind version " RAIND_VERSION);
    app.require_subcommand(1);
    add_version(app);
    add_run(app);
    add_create(app);
    add_start(app);
    add_stop(app);
    add_kill(app);
    add_rm(app);
    add_ps(app);
    add_wait(app);
    add_exec(app);
    add_logs(app);
    add_attach(app);
    add_top(app);
    add_stats(app);
    add_container_prune(app);
    add_pause(app);
    add_rename(app);
    add_restart(app);
    add_pull(app);
    add_push(app);
    add_images(app);
    add_rmi(app);
    add_tag(app);
    add_login(app);
    add_archive(app);
    add_registry(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    try {
        return chosen ? chosen() : exit_ok;
    } catch (const sdbus::Error& e) {
        std::fprintf(stderr, "raind: %s\n", describe(e).c_str());
        return exit_status(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "raind: %s\n", e.what());
        return exit_failed;
    }
}
