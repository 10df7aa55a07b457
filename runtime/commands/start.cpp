#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "container.hpp"

namespace droplet {

Command add_start(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("start", "run the program of a created container");
    auto id = std::make_shared<std::string>();
    app->add_option("id", *id, "container id")->required();
    return {app, [id, &global] {
                start_container(global.root, *id);
                return 0;
            }};
}

} // namespace droplet
