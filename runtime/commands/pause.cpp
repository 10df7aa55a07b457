#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "container_cgroup.hpp"
#include "error.hpp"

namespace droplet {

// Freezes every process of the container through its cgroup (cgroup.freeze).
Command add_pause(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("pause", "freeze every process of a container");
    auto id = std::make_shared<std::string>();
    app->add_option("id", *id, "container id")->required();
    return {app, [id, &global] {
                ContainerState s = load_state(global.root, *id);
                if (current_status(global.root, s) != Status::running)
                    throw raind::Error("cannot pause container \"" + *id + "\": it is not running");
                if (s.cgroup_driver.empty())
                    throw raind::Error("cannot pause container \"" + *id + "\": it has no cgroup (cgroups are disabled)");
                container_cgroup(s)->freeze(true);
                return 0;
            }};
}

} // namespace droplet
