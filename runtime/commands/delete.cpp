#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "container.hpp"

namespace droplet {

Command add_delete(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("delete", "destroy a container and remove its state");
    auto id = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    app->add_option("id", *id, "container id")->required();
    app->add_flag("-f,--force", *force, "kill the container first if it is running");
    return {app, [id, force, &global] {
                delete_container(global.root, *id, *force);
                return 0;
            }};
}

} // namespace droplet
