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

// Opens a pty on the host's devpts, sizes it, and gives the slave to `owner` (the container
// user's host uid). For configs that do not mount their own /dev/pts.
Pty open_pty(const std::optional<ConsoleSize>& size, uid_t owner, gid_t group);

// In the init, once the container's devpts is mounted: a pty of that instance (the program
// sees /dev/pts/0 like on any terminal), with the slave bound on /dev/console.
Pty open_container_pty(int root_fd, const std::optional<ConsoleSize>& size, uid_t owner);

// In an exec'd process, inside the container's mount namespace: a pty of its devpts.
Pty open_pty_in_devpts(int root_fd, const std::optional<ConsoleSize>& size, uid_t owner);

// True when the config mounts a devpts on /dev/pts.
bool mounts_own_devpts(const Spec& spec);

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
