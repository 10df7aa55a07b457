// The condenser process: owns the bus name, serves objects, exits when idle.
#pragma once

#include <chrono>
#include <string>

#include "manager.hpp"

namespace condenser {

struct DaemonOptions {
    Settings settings;
    std::chrono::seconds idle_timeout{60}; // 0 = never exit when idle
    std::string bus_name = "org.raind.Condenser1";
};

// Runs until SIGTERM/SIGINT or until idle for idle_timeout. Returns the exit status.
int run_daemon(const DaemonOptions& options);

} // namespace condenser
