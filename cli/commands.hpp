// Each CLI verb lives in cli/commands/<verb>.cpp and registers itself on the app.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace raind::cli {

// What a verb runs once the command line is parsed; returns the exit status.
using Action = std::function<int()>;
void set_action(CLI::App& command, Action action);

void add_version(CLI::App& app);

} // namespace raind::cli
