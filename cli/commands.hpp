// Each CLI verb lives in cli/commands/<verb>.cpp and registers itself on the app.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace raind::cli {

// What a verb runs once the command line is parsed; returns the exit status.
using Action = std::function<int()>;
void set_action(CLI::App& command, Action action);

void add_version(CLI::App& app);
void add_pull(CLI::App& app);
void add_push(CLI::App& app);
void add_images(CLI::App& app);
void add_rmi(CLI::App& app);
void add_tag(CLI::App& app);
void add_login(CLI::App& app);
void add_archive(CLI::App& app);
void add_registry(CLI::App& app);
void add_create(CLI::App& app);
void add_run(CLI::App& app);
void add_start(CLI::App& app);
void add_stop(CLI::App& app);
void add_kill(CLI::App& app);
void add_rm(CLI::App& app);
void add_ps(CLI::App& app);
void add_wait(CLI::App& app);
void add_exec(CLI::App& app);
void add_logs(CLI::App& app);
void add_pause(CLI::App& app);
void add_rename(CLI::App& app);
void add_restart(CLI::App& app);
void add_attach(CLI::App& app);
void add_top(CLI::App& app);
void add_stats(CLI::App& app);
void add_container_prune(CLI::App& app);

} // namespace raind::cli
