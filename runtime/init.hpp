// The container side of `create`: the intermediate child joins and creates namespaces, the
// init (its child, pid 1 of a new pid namespace) builds the container and parks until `start`.
// Nothing here returns or throws to droplet's code: failures travel over the sync socket.
#pragma once

#include <string>
#include <vector>

#include "namespaces.hpp"
#include "rootfs.hpp"
#include "spec.hpp"
#include "sync.hpp"

namespace droplet {

struct InitContext {
    const Spec* spec = nullptr;
    NamespacePlan* namespaces = nullptr;
    SyncSocket* sync = nullptr;  // the child's end
    int start_listen_fd = -1;    // start.sock, accepted once by `start`
    int console_slave_fd = -1;   // a host pty slave, or -1
    bool console_in_container = false; // open the pty in the container's devpts instead
    std::string rootfs;          // absolute
    RootfsOptions rootfs_options;
    unsigned preserve_fds = 0;
    unsigned listen_fds = 0;
    std::vector<int> parent_only_fds; // closed first thing in the child
};

// Runs in the process droplet forked. Never returns.
[[noreturn]] void run_intermediate(InitContext& context) noexcept;

} // namespace droplet
