// raind attach CONTAINER: a running container's output (and input, unless --no-stdin) on this
// terminal until it exits; exits with its status.
#include <cstdio>

#include "attach.hpp"
#include "client.hpp"
#include "commands.hpp"
#include "error.hpp"

namespace raind::cli {

void add_attach(CLI::App& app) {
    auto* command = app.add_subcommand("attach", "Attach this terminal to a running container");
    auto name = std::make_shared<std::string>();
    auto no_stdin = std::make_shared<bool>(false);
    command->add_option("container", *name, "container name or id")->required();
    command->add_flag("--no-stdin", *no_stdin, "do not send standard input to it");
    set_action(*command, [=] {
        block_relay_signals();
        Client client;
        client.watch_signals();
        // AttachContainer would create an exited container again (for start -a): check first.
        auto path = client.manager().GetContainer(*name);
        for (const auto& row : client.manager().ListContainers(true)) {
            auto id = row.at("Id").get<std::string>();
            if (path == "/org/raind/Condenser1/container/" + id && row.at("State").get<std::string>() != "running" &&
                row.at("State").get<std::string>() != "paused")
                throw raind::Error("container " + *name + " is not running: start it with raind start -a");
        }
        Attachment attachment = attach(client, *name);
        auto status = client.manager().wait_async(*name);
        relay(attachment, !*no_stdin);
        return int{status.get()};
    });
}

} // namespace raind::cli
