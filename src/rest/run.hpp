// condenser-rest from start to exit: pick the socket, tell systemd, serve, stop on a signal.
#pragma once

#include <string>

namespace raind::rest {

struct Options {
    std::string listen; // "unix:PATH" to bind ourselves; empty: the socket systemd passes
};

// Serves until SIGTERM or SIGINT. Throws raind::Error for what a person must see
// (no socket to serve, a bad --listen, a socket that cannot be bound).
void run(const Options& options);

} // namespace raind::rest
