// condenser-rest: the Docker-compatible REST bridge to condenser, started by
// condenser-rest.socket. All of it lives in librest; this only parses arguments.
#include <CLI/CLI.hpp>

#include <exception>

#include "log.hpp"
#include "raind-config.h"
#include "run.hpp"

int main(int argc, char** argv) {
    CLI::App app{"condenser-rest: the Docker-compatible REST API of raind, served on the socket systemd passes",
                 "condenser-rest"};
    raind::rest::Options options;
    app.add_option("--listen", options.listen,
                   "serve on this address instead of the socket systemd passes (unix:/absolute/path)");
    app.set_version_flag("--version", "condenser-rest version " RAIND_VERSION);
    CLI11_PARSE(app, argc, argv);

    raind::log::configure("condenser-rest", raind::log::Level::warning);
    try {
        raind::rest::run(options);
    } catch (const std::exception& e) {
        raind::log::error(e.what());
        return 1;
    }
    return 0;
}
