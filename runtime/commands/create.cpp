#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "container.hpp"

namespace droplet {

Command add_create(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("create", "create a container from a bundle; `start` runs its program");
    auto o = std::make_shared<CreateOptions>();
    app->add_option("id", o->id, "container id")->required();
    app->add_option("-b,--bundle", o->bundle, "bundle directory (default: the current directory)");
    app->add_option("--pid-file", o->pid_file, "write the init's pid to this file");
    app->add_option("--console-socket", o->console_socket, "unix socket that receives the pty master");
    app->add_flag("--no-pivot", o->no_pivot, "do not use pivot_root (for a rootfs on a ramdisk)");
    app->add_option("--preserve-fds", o->preserve_fds, "pass this many extra fds (from 3) to the container");
    app->add_flag("--no-new-keyring")->description("accepted for runc compatibility; droplet does not create keyrings");
    return {app, [o, &global] {
                o->systemd_cgroup = global.systemd_cgroup;
                create_container(global.root, *o);
                return 0;
            }};
}

} // namespace droplet
