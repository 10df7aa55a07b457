// `exec`: a new process in every namespace of a running container, with its own process spec.
#pragma once

#include <string>
#include <vector>

namespace droplet {

struct ExecOptions {
    std::string id;
    std::string process_file;      // --process: a process.json; otherwise args + flags below
    std::vector<std::string> args;
    bool tty = false;
    bool detach = false;
    std::string pid_file;
    std::string console_socket;
    std::string cwd;
    std::vector<std::string> env;
    std::string user;              // uid[:gid]
    std::vector<std::string> caps; // added to every capability set
    std::vector<std::string> additional_gids;
    bool no_new_privileges = false;
    unsigned preserve_fds = 0;
};

// Returns the exit status of the process (0 with --detach once it is running).
int exec_in_container(const std::string& root, const ExecOptions& options);

} // namespace droplet
