// `run` and `exec` without --detach: droplet stays the container process's parent, forwards
// the signals a shell or supervisor sends it, relays the terminal, and exits with its status.
#pragma once

#include <sys/types.h>

#include "console.hpp"

namespace droplet {

// Blocks the forwarded signals; call before the process can exit or be signalled, so none is lost.
class ForwardedSignals {
public:
    ForwardedSignals();
    ~ForwardedSignals();
    ForwardedSignals(const ForwardedSignals&) = delete;
    ForwardedSignals& operator=(const ForwardedSignals&) = delete;
    int fd() const { return fd_; }

private:
    int fd_ = -1;
    sigset_t old_{};
};

// Waits for `pid` (our child) to exit; returns its exit status, 128+N for a signal.
int wait_foreground(pid_t pid, int pidfd, ForwardedSignals& signals, ConsoleRelay* relay);

} // namespace droplet
