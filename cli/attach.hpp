// A container's stream on this terminal: output to stdout/stderr (Docker's frames split when
// there is no tty), stdin to the container with -i, the local terminal raw with -t and its
// size following the window (SIGWINCH -> TIOCSWINSZ on the pty master).
#pragma once

#include <signal.h>

#include <functional>
#include <string>

#include "client.hpp"
#include "fd.hpp"

namespace raind::cli {

struct Attachment {
    raind::UniqueFd stream;
    bool tty = false;
    raind::UniqueFd master; // with tty
};

// Blocks SIGWINCH and the signals relay() forwards (INT, TERM, HUP, QUIT, USR1, USR2) in this
// thread and every thread started after it, for relay() to take them from a signalfd: call
// before Client is made.
void block_relay_signals();

Attachment attach(Client& client, const std::string& container);

// Copies until the container's output ends. With `input`, standard input goes to the
// container and its end closes the container's stdin. Signals this process gets are passed
// to `forward` (docker's sig-proxy), SIGWINCH excepted.
void relay(Attachment& attachment, bool input, const std::function<void(int)>& forward = {});

// The signals block_relay_signals() blocks, for a signalfd.
sigset_t relay_signals();

} // namespace raind::cli
