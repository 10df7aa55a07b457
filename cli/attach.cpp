#include "attach.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "control.hpp"
#include "error.hpp"

namespace raind::cli {
namespace {

void write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the reader went away: nothing more to show
        data += n;
        size -= static_cast<size_t>(n);
    }
}

// The local terminal in raw mode for as long as this lives.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0)
            return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_)
            ::tcsetattr(fd_, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

void copy_window_size(int master) {
    winsize size{};
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
        if (::ioctl(fd, TIOCGWINSZ, &size) == 0) {
            ::ioctl(master, TIOCSWINSZ, &size);
            return;
        }
}

} // namespace

namespace {

sigset_t relay_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    for (int s : {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
        ::sigaddset(&set, s);
    return set;
}

} // namespace

void block_relay_signals() {
    sigset_t set = relay_signals();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Attachment attach(Client& client, const std::string& container) {
    auto [stream, tty, master] = client.manager().AttachContainer(container);
    Attachment a;
    a.stream.reset(stream.release());
    a.tty = tty;
    if (!master.empty())
        a.master.reset(master[0].release());
    return a;
}

void relay(Attachment& a, bool input, const std::function<void(int)>& forward) {
    std::optional<RawTerminal> raw;
    if (a.tty && a.master) {
        if (::isatty(STDIN_FILENO) && input)
            raw.emplace(STDIN_FILENO);
        copy_window_size(a.master.get());
    }
    sigset_t set = relay_signals();
    raind::UniqueFd winch(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    bool stdin_open = input;
    std::string frames, out, err;
    char buffer[32768];
    while (true) {
        pollfd fds[3] = {{a.stream.get(), POLLIN, 0},
                         {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                         {winch ? winch.get() : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            raind::throw_errno("poll the container's stream");
        }
        if (fds[2].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(winch.get(), &info, sizeof info) == sizeof info) {
                int signal = static_cast<int>(info.ssi_signo);
                if (signal == SIGWINCH && a.master)
                    copy_window_size(a.master.get());
                else if (signal != SIGWINCH && forward)
                    forward(signal);
            }
        }
        if (fds[1].revents) {
            ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
            if (n > 0) {
                write_all(a.stream.get(), buffer, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                stdin_open = false;
                ::shutdown(a.stream.get(), SHUT_WR); // the container sees the end of its input
            }
        }
        if (fds[0].revents) {
            ssize_t n = ::read(a.stream.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (a.tty) {
                write_all(STDOUT_FILENO, buffer, static_cast<size_t>(n));
                continue;
            }
            frames.append(buffer, static_cast<size_t>(n));
            shim::unframe(frames, out, err);
            write_all(STDOUT_FILENO, out.data(), out.size());
            write_all(STDERR_FILENO, err.data(), err.size());
            out.clear();
            err.clear();
        }
    }
}

} // namespace raind::cli
