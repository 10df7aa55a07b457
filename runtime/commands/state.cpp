#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "container_cgroup.hpp"
#include "state.hpp"

namespace droplet {

Command add_state(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("state", "print the runtime-spec state of a container");
    auto id = std::make_shared<std::string>();
    app->add_option("id", *id, "container id")->required();
    return {app, [id, &global] {
                ContainerState s = load_state(global.root, *id);
                Status status = current_status(global.root, s);
                nlohmann::json document = state_document(s, status);
                document["status"] = container_status_name(s, status);
                std::puts(document.dump(2).c_str());
                return 0;
            }};
}

} // namespace droplet
