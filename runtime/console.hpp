// The container's terminal: a pty whose master goes to the caller over the console socket
// (SCM_RIGHTS), and whose slave becomes the container process's controlling terminal.
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <optional>
#include <string>

#include "fd.hpp"
#include "spec.hpp"

namespace droplet {

struct Pty {
    raind::UniqueFd master;
    raind::UniqueFd slave;
    std::string slave_path;
};

// Opens a pty, sizes it, and gives the slave to `owner` (the container user's host uid).
Pty open_pty(const std::optional<ConsoleSize>& size, uid_t owner, gid_t group);

raind::UniqueFd connect_console_socket(const std::string& path);
void send_fd(int socket, int fd, const std::string& name);
raind::UniqueFd receive_fd(int socket);

// In the container process: new session, the slave as controlling terminal and stdio.
void attach_console(int slave);

// Copies between our stdio and the pty master until the master closes (the container's
// terminal when `run`/`exec` run in the foreground without a console socket).
class ConsoleRelay {
public:
    explicit ConsoleRelay(raind::UniqueFd master);
    ~ConsoleRelay();
    ConsoleRelay(const ConsoleRelay&) = delete;
    ConsoleRelay& operator=(const ConsoleRelay&) = delete;

    int master_fd() const { return master_.get(); }
    // Moves what is readable; returns false once the master reports EOF/HUP.
    bool pump_master();
    void pump_stdin();
    void resize_from_stdin();
    bool stdin_open() const { return stdin_open_; }

private:
    raind::UniqueFd master_;
    bool raw_ = false;
    bool stdin_open_ = true;
    termios saved_{};
};

} // namespace droplet
