// raind tag: give an image another name.
#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_tag(CLI::App& app) {
    auto* command = app.add_subcommand("tag", "Give an image another name");
    auto source = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    command->add_option("image", *source, "image name or id")->required();
    command->add_option("name", *target, "new name, e.g. 127.0.0.1:5000/me/app:1")->required();
    set_action(*command, [=] {
        Client client;
        client.manager().TagImage(*source, *target);
        return 0;
    });
}

} // namespace raind::cli
