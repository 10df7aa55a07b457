// raind container prune: remove every container that is not running (created or exited).
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_container_prune(CLI::App& app) {
    auto* container = app.add_subcommand("container", "Manage containers");
    container->require_subcommand(1);
    auto* prune = container->add_subcommand("prune", "Remove every container that is not running");
    set_action(*prune, [] {
        Client client;
        client.watch_signals();
        for (const auto& row : client.manager().ListContainers(true)) {
            auto state = row.at("State").get<std::string>();
            if (state == "running" || state == "paused")
                continue;
            auto id = row.at("Id").get<std::string>();
            client.manager().call_long("RemoveContainer", id, false);
            std::printf("%s\n", id.c_str());
        }
        return 0;
    });
}

} // namespace raind::cli
