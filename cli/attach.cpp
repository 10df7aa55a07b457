#include "attach.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include "control.hpp"
#include "error.hpp"
#include "terminal.hpp"

namespace raind::cli {

sigset_t relay_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    for (int s : {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
        ::sigaddset(&set, s);
    return set;
}

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
