// linux.seccomp: compiled to classic BPF by droplet with libseccomp before it forks, loaded in
// the container process with seccomp(2) just before execve — the child never runs libseccomp.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "fd.hpp"
#include "spec.hpp"
#include "state.hpp"

namespace droplet {

struct CompiledSeccomp {
    std::vector<sock_filter> program; // empty: the spec has no linux.seccomp
    unsigned flags = 0;               // SECCOMP_FILTER_FLAG_* passed to seccomp(2)
    bool notify = false;              // a rule (so NEW_LISTENER) uses SCMP_ACT_NOTIFY
    std::string listener_path;
    std::string listener_metadata;
    std::vector<std::string> skipped_syscalls; // names libseccomp does not know, warned about
};

// Parses and compiles linux.seccomp (JSON text, empty for none). Errors name the field:
// `linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_FOO"`. Unknown syscall names are
// skipped with a warning, as runc and crun do. With a cache directory, the BPF generation (the
// slow part) is skipped for a profile compiled before; everything else is checked every time.
CompiledSeccomp compile_seccomp(const std::string& seccomp_json, const std::string& cache_dir = {});

// What the container process needs to load the filter, prepared before the fork.
struct SeccompSetup {
    CompiledSeccomp filter;
    // SCMP_ACT_NOTIFY only: a connection to listenerPath, droplet's /proc (the process reads
    // its own pid as droplet sees it there), and the container state sent with the fd.
    raind::UniqueFd listener;
    raind::UniqueFd host_proc;
    std::string state_json;

    bool active() const { return !filter.program.empty(); }
    // The parent's copies, closed once the child has its own: the agent must see EOF when
    // the process closes its end.
    void close_parent_fds() noexcept;
};

// The compiled-program cache under a state root. Its name can never be a container id.
std::string seccomp_cache_dir(const std::string& state_root);

// Compiles the spec's filter and, with SCMP_ACT_NOTIFY, connects to the listener. `state` and
// `status` describe the container for the agent. Cheap when the spec has no seccomp.
SeccompSetup prepare_seccomp(const Spec& spec, const ContainerState& state, Status status,
                             const std::string& cache_dir = {});

// In the container process. Without no_new_privs the kernel only lets a process holding
// CAP_SYS_ADMIN load a filter, so then it is loaded before the capabilities are dropped (as
// runc does) and also filters the user switch; with no_new_privs it is loaded last, right
// before execve. Call both at their places; each does nothing when it is not its turn.
// A null setup (no filter) does nothing.
void apply_seccomp_before_user_switch(SeccompSetup* setup, const Process& process);
void apply_seccomp_before_exec(SeccompSetup* setup, const Process& process);

// linux.seccomp of the features document.
nlohmann::json seccomp_features();

} // namespace droplet
