#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "container_cgroup.hpp"
#include "error.hpp"

namespace droplet {

Command add_resume(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("resume", "thaw a paused container");
    auto id = std::make_shared<std::string>();
    app->add_option("id", *id, "container id")->required();
    return {app, [id, &global] {
                ContainerState s = load_state(global.root, *id);
                if (container_status_name(s, current_status(global.root, s)) != "paused")
                    throw raind::Error("cannot resume container \"" + *id + "\": it is not paused");
                container_cgroup(s)->freeze(false);
                return 0;
            }};
}

} // namespace droplet
