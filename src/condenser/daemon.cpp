#include "daemon.hpp"

#include <systemd/sd-daemon.h>

#include "authority.hpp"
#include "log.hpp"
#include "loop.hpp"
#include "state.hpp"

namespace condenser {

int run_daemon(const DaemonOptions& options) {
    auto database = open_state(options.settings.state_dir);

    auto connection = sdbus::createSystemBusConnection();
    Loop loop(*connection);
    Activity activity;
    Authority authority(*connection);
    // Before the objects: announcing one (InterfacesAdded) needs the ObjectManager above it.
    connection->addObjectManager(Manager::object_path, sdbus::floating_slot);
    Manager manager(*connection, loop, authority, activity, *database, options.settings);
    // Objects first, name last: a request that activated us finds everything in place.
    connection->requestName(options.bus_name);

    sd_notify(0, "READY=1\nSTATUS=Serving org.raind.Condenser1");
    raind::log::info("serving " + options.bus_name);

    bool releasing = false;
    loop.run(std::chrono::milliseconds(250), [&] {
        if (options.idle_timeout.count() == 0)
            return;
        if (!releasing && activity.idle_for() >= options.idle_timeout) {
            // Give the name back first: from now on the bus activates a new instance for
            // new callers, while requests already queued for us are still served below.
            sd_notify(0, "STOPPING=1\nSTATUS=Exiting after being idle");
            connection->releaseName(options.bus_name);
            releasing = true;
        } else if (releasing && !activity.busy()) {
            loop.stop();
        }
    });
    return 0;
}

} // namespace condenser
