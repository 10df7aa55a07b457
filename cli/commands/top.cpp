// raind top CONTAINER: the container's processes as the host sees them.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_top(CLI::App& app) {
    auto* command = app.add_subcommand("top", "List a running container's processes");
    auto name = std::make_shared<std::string>();
    command->add_option("container", *name, "container name or id")->required();
    set_action(*command, [=] {
        Client client;
        std::printf("%-8s %-8s %-8s %s\n", "PID", "PPID", "UID", "CMD");
        for (const auto& row : client.manager().TopContainer(*name))
            std::printf("%-8u %-8u %-8u %s\n", row.get<0>(), row.get<1>(), row.get<2>(), row.get<3>().c_str());
        return 0;
    });
}

} // namespace raind::cli
