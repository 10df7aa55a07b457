// raind rm [-f]: remove containers and everything they left (bundle, logs, shim state).
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_rm(CLI::App& app) {
    auto* command = app.add_subcommand("rm", "Remove containers");
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    command->add_option("container", *names, "container names or ids")->required();
    command->add_flag("-f,--force", *force, "kill a running container first");
    set_action(*command, [=] {
        Client client;
        client.watch_signals();
        for (const auto& name : *names) {
            client.manager().call_long("RemoveContainer", name, *force);
            std::printf("%s\n", name.c_str());
        }
        return 0;
    });
}

} // namespace raind::cli
