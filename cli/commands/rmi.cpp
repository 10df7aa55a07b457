// raind rmi: untag and remove images; each line says what happened.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_rmi(CLI::App& app) {
    auto* command = app.add_subcommand("rmi", "Remove images (by name: untag; by id: the image)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    command->add_option("image", *names, "image names or ids")->required();
    command->add_flag("-f,--force", *force, "remove an image by id even when it has several names");
    set_action(*command, [=] {
        Client client;
        for (const auto& name : *names) {
            auto [untagged, deleted] = client.manager().RemoveImage(name, *force);
            for (const auto& tag : untagged)
                std::printf("Untagged: %s\n", tag.c_str());
            for (const auto& id : deleted)
                std::printf("Deleted: %s\n", id.c_str());
        }
        return 0;
    });
}

} // namespace raind::cli
