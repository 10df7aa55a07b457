#include "console.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "fd_passing.hpp"
#include "file_util.hpp"
#include "mount_api.hpp"
#include "safe_path.hpp"

namespace droplet {

Pty open_pty(const std::optional<ConsoleSize>& size, uid_t owner, gid_t group) {
    Pty pty;
    pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master)
        raind::throw_errno("open a pty (/dev/ptmx)");
    if (::unlockpt(pty.master.get()) < 0)
        raind::throw_errno("unlockpt");
    char name[128];
    if (::ptsname_r(pty.master.get(), name, sizeof name) != 0)
        raind::throw_errno("ptsname");
    pty.slave_path = name;
    pty.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave)
        raind::throw_errno("open pty slave " + pty.slave_path);
    if (::fchown(pty.slave.get(), owner, group) < 0)
        raind::throw_errno("chown pty slave " + pty.slave_path);
    if (size && size->height && size->width) {
        winsize ws{};
        ws.ws_row = static_cast<unsigned short>(size->height);
        ws.ws_col = static_cast<unsigned short>(size->width);
        if (::ioctl(pty.master.get(), TIOCSWINSZ, &ws) < 0)
            raind::throw_errno("process.consoleSize: set the pty size");
    }
    return pty;
}

bool mounts_own_devpts(const Spec& spec) {
    for (const Mount& m : spec.mounts)
        if (m.type == "devpts" && clean_absolute_path(m.destination).value_or("") == "/dev/pts")
            return true;
    return false;
}

Pty open_pty_in_devpts(int root_fd, const std::optional<ConsoleSize>& size, uid_t owner) {
    Pty pty;
    pty.master = open_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (!pty.master)
        throw raind::Error("open the container's /dev/pts/ptmx: No such file or directory");
    if (::unlockpt(pty.master.get()) < 0)
        raind::throw_errno("unlockpt");
    unsigned number = 0;
    if (::ioctl(pty.master.get(), TIOCGPTN, &number) < 0)
        raind::throw_errno("get the pty number");
    pty.slave_path = "/dev/pts/" + std::to_string(number);
    // From the master itself: no path the image could have swapped.
    pty.slave.reset(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave)
        raind::throw_errno("open the pty slave " + pty.slave_path);
    if (::fchown(pty.slave.get(), owner, static_cast<gid_t>(-1)) < 0)
        raind::throw_errno("chown pty slave " + pty.slave_path + " to " + std::to_string(owner));
    if (size && size->height && size->width) {
        winsize ws{};
        ws.ws_row = static_cast<unsigned short>(size->height);
        ws.ws_col = static_cast<unsigned short>(size->width);
        if (::ioctl(pty.master.get(), TIOCSWINSZ, &ws) < 0)
            raind::throw_errno("process.consoleSize: set the pty size");
    }
    return pty;
}

Pty open_container_pty(int root_fd, const std::optional<ConsoleSize>& size, uid_t owner) {
    Pty pty = open_pty_in_devpts(root_fd, size, owner);
    raind::UniqueFd console = create_in_root(root_fd, "/dev/console", CreateKind::file);
    std::string what = "bind-mount " + pty.slave_path + " on /dev/console";
    raind::UniqueFd tree = clone_tree(pty.slave.get(), "", false, what);
    attach_tree(tree.get(), console.get(), what);
    return pty;
}

raind::UniqueFd connect_console_socket(const std::string& path) {
    raind::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock)
        raind::throw_errno("console socket: socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw raind::Error("console socket " + path + ": path is too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        raind::throw_errno("connect to console socket " + path);
    return sock;
}

void send_fd(int socket, int fd, const std::string& name) {
    if (raind::send_with_fds(socket, name.data(), name.size(), {&fd, 1}) < 0)
        raind::throw_errno("send the pty master over the console socket");
}

raind::UniqueFd receive_fd(int socket) {
    char data[256];
    raind::Received r = raind::receive_with_fds(socket, data, 1, "receive the pty master");
    if (r.fds.empty())
        throw raind::Error("no pty master received");
    return std::move(r.fds.front());
}

void attach_console(int slave) {
    if (::setsid() < 0 && errno != EPERM)
        raind::throw_errno("setsid");
    if (::ioctl(slave, TIOCSCTTY, 0) < 0)
        raind::throw_errno("make the pty the controlling terminal");
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(slave, fd) < 0)
            raind::throw_errno("dup the pty onto stdio");
}

ConsoleRelay::ConsoleRelay(raind::UniqueFd master) : master_(std::move(master)) {
    if (::isatty(STDIN_FILENO)) {
        if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
            termios raw = saved_;
            ::cfmakeraw(&raw);
            raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        resize_from_stdin();
    }
}

ConsoleRelay::~ConsoleRelay() {
    if (raw_)
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

bool ConsoleRelay::pump_master() {
    char buf[16384];
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false; // EIO: every slave fd is closed
    write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
    return true;
}

void ConsoleRelay::pump_stdin() {
    if (!stdin_open_)
        return;
    char buf[16384];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        stdin_open_ = false;
        // End of input reaches the program as the terminal's EOF character.
        char eof = 4;
        write_all(master_.get(), &eof, 1);
        return;
    }
    write_all(master_.get(), buf, static_cast<size_t>(n));
}

void ConsoleRelay::resize_from_stdin() {
    winsize ws{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        ::ioctl(master_.get(), TIOCSWINSZ, &ws);
}

} // namespace droplet
