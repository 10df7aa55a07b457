// raind pause / unpause: freeze and thaw every process of running containers.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_pause(CLI::App& app) {
    for (bool pause : {true, false}) {
        auto* command = app.add_subcommand(pause ? "pause" : "unpause",
                                           pause ? "Freeze every process of containers" : "Thaw paused containers");
        auto names = std::make_shared<std::vector<std::string>>();
        command->add_option("container", *names, "container names or ids")->required();
        set_action(*command, [=] {
            Client client;
            client.watch_signals();
            for (const auto& name : *names) {
                client.manager().call_long(pause ? "PauseContainer" : "UnpauseContainer", name);
                std::printf("%s\n", name.c_str());
            }
            return 0;
        });
    }
}

} // namespace raind::cli
