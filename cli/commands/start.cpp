// raind start [-a] [-i]: start created or stopped containers; -a attaches and exits with the status.
#include <cstdio>

#include "attach.hpp"
#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {

void add_start(CLI::App& app) {
    auto* command = app.add_subcommand("start", "Start containers");
    auto names = std::make_shared<std::vector<std::string>>();
    auto attach_flag = std::make_shared<bool>(false);
    auto interactive = std::make_shared<bool>(false);
    command->add_option("container", *names, "container names or ids")->required();
    command->add_flag("-a,--attach", *attach_flag, "attach to its output and exit with its status");
    command->add_flag("-i,--interactive", *interactive, "with -a: send standard input to it");
    set_action(*command, [=] {
        if (*attach_flag) {
            if (names->size() != 1) {
                std::fprintf(stderr, "raind: start -a takes one container\n");
                return int{exit_usage};
            }
            block_relay_signals();
            Client client;
            client.watch_signals();
            Attachment attachment = attach(client, names->front());
            auto status = client.manager().wait_async(names->front());
            client.manager().call_long("StartContainer", names->front());
            relay(attachment, *interactive);
            return int{status.get()};
        }
        Client client;
        client.watch_signals();
        for (const auto& name : *names) {
            client.manager().call_long("StartContainer", name);
            std::printf("%s\n", name.c_str());
        }
        return 0;
    });
}

} // namespace raind::cli
