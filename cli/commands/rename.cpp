// raind rename CONTAINER NAME.
#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_rename(CLI::App& app) {
    auto* command = app.add_subcommand("rename", "Give a container a new name");
    auto container = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    command->add_option("container", *container, "container name or id")->required();
    command->add_option("name", *name, "its new name")->required();
    set_action(*command, [=] {
        Client client;
        client.watch_signals();
        client.manager().call_long("RenameContainer", *container, *name);
        return 0;
    });
}

} // namespace raind::cli
