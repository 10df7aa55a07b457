#include <CLI/CLI.hpp>
#include <cstdio>

#include "raind-config.h"

int main(int argc, char** argv) {
    CLI::App app{"raind: run and manage containers through condenser", "raind"};
    app.set_version_flag("--version", "raind version " RAIND_VERSION);
    app.require_subcommand(0);
    CLI11_PARSE(app, argc, argv);
    std::puts(app.help().c_str());
    return 0;
}
