#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "container_cgroup.hpp"
#include "error.hpp"

namespace droplet {

// runc's events: one {"type":"stats","id":…,"data":{…}} object per line, once with --stats.
Command add_events(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("events", "print a container's resource statistics");
    auto id = std::make_shared<std::string>();
    auto once = std::make_shared<bool>(false);
    auto interval = std::make_shared<unsigned>(5);
    app->add_option("id", *id, "container id")->required();
    app->add_flag("--stats", *once, "print the statistics once and exit");
    app->add_option("--interval", *interval, "seconds between statistics")->check(CLI::Range(1u, 86400u));
    return {app, [id, once, interval, &global] {
                for (;;) {
                    ContainerState s = load_state(global.root, *id);
                    if (current_status(global.root, s) == Status::stopped)
                        throw raind::Error("container \"" + *id + "\" is not running");
                    if (s.cgroup_driver.empty())
                        throw raind::Error("container \"" + *id + "\" has no cgroup (cgroups are disabled)");
                    nlohmann::json event = {{"type", "stats"}, {"id", *id}, {"data", container_cgroup(s)->stats()}};
                    std::puts(event.dump().c_str());
                    std::fflush(stdout);
                    if (*once)
                        return 0;
                    ::sleep(*interval);
                }
            }};
}

} // namespace droplet
