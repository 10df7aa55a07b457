// raind stop [-t] and raind kill [-s]: end containers, gracefully or with a signal.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_stop(CLI::App& app) {
    auto* command = app.add_subcommand("stop", "Stop containers (their stop signal, SIGKILL after the timeout)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<unsigned>(10);
    command->add_option("container", *names, "container names or ids")->required();
    command->add_option("-t,--time", *timeout, "seconds to wait before SIGKILL")->capture_default_str();
    set_action(*command, [=] {
        Client client;
        client.watch_signals();
        for (const auto& name : *names) {
            client.manager().call_long("StopContainer", name, uint32_t{*timeout});
            std::printf("%s\n", name.c_str());
        }
        return 0;
    });
}

void add_kill(CLI::App& app) {
    auto* command = app.add_subcommand("kill", "Send a signal to running containers");
    auto names = std::make_shared<std::vector<std::string>>();
    auto signal = std::make_shared<std::string>("KILL");
    command->add_option("container", *names, "container names or ids")->required();
    command->add_option("-s,--signal", *signal, "signal name or number")->capture_default_str();
    set_action(*command, [=] {
        Client client;
        for (const auto& name : *names) {
            client.manager().KillContainer(name, *signal);
            std::printf("%s\n", name.c_str());
        }
        return 0;
    });
}

} // namespace raind::cli
