#include <CLI/CLI.hpp>
#include <memory>

#include "commands.hpp"
#include "container.hpp"
#include "foreground.hpp"

namespace droplet {

Command add_run(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("run", "create and start a container, and wait for it unless --detach");
    auto o = std::make_shared<CreateOptions>();
    auto detach = std::make_shared<bool>(false);
    auto keep = std::make_shared<bool>(false);
    app->add_option("id", o->id, "container id")->required();
    app->add_option("-b,--bundle", o->bundle, "bundle directory (default: the current directory)");
    app->add_option("--pid-file", o->pid_file, "write the init's pid to this file");
    app->add_option("--console-socket", o->console_socket, "unix socket that receives the pty master");
    app->add_flag("--no-pivot", o->no_pivot, "do not use pivot_root");
    app->add_option("--preserve-fds", o->preserve_fds, "pass this many extra fds (from 3) to the container");
    app->add_flag("-d,--detach", *detach, "return once the program runs");
    app->add_flag("--keep", *keep, "do not delete the container after it exits");
    app->add_flag("--no-new-keyring")->description("accepted for runc compatibility");
    return {app, [o, detach, keep, &global] {
                o->keep_console = !*detach && o->console_socket.empty();
                o->systemd_cgroup = global.systemd_cgroup;
                CreatedContainer c = create_container(global.root, *o);
                if (*detach) {
                    start_container(global.root, o->id);
                    return 0;
                }
                int status;
                {
                    ForwardedSignals signals;
                    std::unique_ptr<ConsoleRelay> relay;
                    if (c.console_master)
                        relay = std::make_unique<ConsoleRelay>(std::move(c.console_master));
                    try {
                        start_container(global.root, o->id);
                    } catch (...) {
                        delete_container(global.root, o->id, true);
                        throw;
                    }
                    status = wait_foreground(c.state.pid, c.pidfd.get(), signals, relay.get());
                }
                if (!*keep)
                    delete_container(global.root, o->id, true);
                return status;
            }};
}

} // namespace droplet
