#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "error.hpp"
#include "exec.hpp"

namespace droplet {

Command add_exec(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("exec", "run a new process inside a running container");
    auto o = std::make_shared<ExecOptions>();
    // Everything after the container id belongs to the command, options included.
    app->prefix_command();
    app->add_option("-p,--process", o->process_file, "process.json with the process to run");
    app->add_flag("-t,--tty", o->tty, "allocate a pseudo-terminal");
    app->add_flag("-d,--detach", o->detach, "return once the process runs");
    app->add_option("--pid-file", o->pid_file, "write the process's pid to this file");
    app->add_option("--console-socket", o->console_socket, "unix socket that receives the pty master");
    app->add_option("--cwd", o->cwd, "working directory inside the container");
    app->add_option("-e,--env", o->env, "KEY=VALUE to set (repeatable)")->allow_extra_args(false);
    app->add_option("-u,--user", o->user, "uid[:gid]");
    app->add_option("-g,--additional-gids", o->additional_gids, "additional gid (repeatable)")->allow_extra_args(false);
    app->add_option("-c,--cap", o->caps, "add a capability (repeatable)")->allow_extra_args(false);
    app->add_flag("--no-new-privs", o->no_new_privileges, "set no_new_privs");
    app->add_option("--preserve-fds", o->preserve_fds, "pass this many extra fds (from 3) to the process");
    return {app, [o, app, &global] {
                std::vector<std::string> rest = app->remaining();
                if (rest.empty())
                    throw raind::Error("exec: the container id is required");
                o->id = rest.front();
                o->args.assign(rest.begin() + 1, rest.end());
                return exec_in_container(global.root, *o);
            }};
}

} // namespace droplet
