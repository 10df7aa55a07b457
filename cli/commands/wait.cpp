// raind wait: print each container's exit status once it has exited.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_wait(CLI::App& app) {
    auto* command = app.add_subcommand("wait", "Wait for containers to exit and print their exit statuses");
    auto names = std::make_shared<std::vector<std::string>>();
    command->add_option("container", *names, "container names or ids")->required();
    set_action(*command, [=] {
        Client client;
        client.watch_signals();
        int last = 0;
        for (const auto& name : *names) {
            last = client.manager().wait_async(name).get();
            std::printf("%d\n", last);
        }
        return last;
    });
}

} // namespace raind::cli
