// raind restart [-t]: stop (stop signal, SIGKILL after the timeout), then start again.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_restart(CLI::App& app) {
    auto* command = app.add_subcommand("restart", "Stop containers and start them again");
    auto names = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<unsigned>(10);
    command->add_option("container", *names, "container names or ids")->required();
    command->add_option("-t,--time", *timeout, "seconds to wait before SIGKILL")->capture_default_str();
    set_action(*command, [=] {
        Client client;
        client.watch_signals();
        for (const auto& name : *names) {
            client.manager().call_long("StopContainer", name, uint32_t{*timeout});
            client.manager().call_long("StartContainer", name);
            std::printf("%s\n", name.c_str());
        }
        return 0;
    });
}

} // namespace raind::cli
