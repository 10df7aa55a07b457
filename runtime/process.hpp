// The container process's own settings: rlimits, oom score, user and groups, umask,
// no_new_privs, capabilities, the environment, fds, and the final execve.
#pragma once

#include <string>
#include <vector>

#include "spec.hpp"

namespace droplet {

// A limit above the caller's hard limit fails with the rlimit named (root here may lack
// CAP_SYS_RESOURCE).
void apply_rlimits(const std::vector<Rlimit>& rlimits);
void apply_oom_score_adj(const Process& process);

// Resolves args[0] through the process's PATH (as seen from the current root). Throws
// "executable file `x` not found in $PATH" or names the path that cannot be executed.
std::string find_executable(const Process& process);

// Changes to process.cwd; the error names it.
void enter_cwd(const Process& process);

// Drops to the process's user with its capabilities: bounding set, keepcaps, groups, gid, uid,
// the capability sets, no_new_privs, umask. Must run after every privileged step.
void become_process_user(const Process& process, bool in_user_namespace);

// Marks every fd from 3 + preserve_fds upward close-on-exec (stdio and preserved fds stay).
void prepare_exec_fds(unsigned preserve_fds);

// The number of LISTEN_FDS droplet itself was given (socket activation), 0 if none or not ours.
unsigned inherited_listen_fds();

// The environment with LISTEN_FDS/LISTEN_PID added when fds are passed through.
std::vector<std::string> process_environment(const Process& process, unsigned listen_fds);

// execve, or throws naming the path.
[[noreturn]] void exec_process(const std::string& path, const Process& process, const std::vector<std::string>& env);

} // namespace droplet
