#include "foreground.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include "pidfd.hpp"
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace droplet {
namespace {

sigset_t forwarded_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPIPE})
        sigaddset(&set, s);
    return set;
}

} // namespace

ForwardedSignals::ForwardedSignals() {
    sigset_t set = forwarded_set();
    if (::sigprocmask(SIG_BLOCK, &set, &old_) < 0)
        raind::throw_errno("block signals");
    fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd_ < 0)
        raind::throw_errno("signalfd");
}

ForwardedSignals::~ForwardedSignals() {
    ::close(fd_);
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

int wait_foreground(pid_t pid, int pidfd, ForwardedSignals& signals, ConsoleRelay* relay) {
    if (relay) {
        ::fcntl(relay->master_fd(), F_SETFL, ::fcntl(relay->master_fd(), F_GETFL) | O_NONBLOCK);
    }
    bool master_open = relay != nullptr;
    for (;;) {
        pollfd fds[4];
        nfds_t n = 0;
        fds[n++] = {pidfd, POLLIN, 0};
        fds[n++] = {signals.fd(), POLLIN, 0};
        int master_index = -1, stdin_index = -1;
        if (master_open) {
            master_index = static_cast<int>(n);
            fds[n++] = {relay->master_fd(), POLLIN, 0};
            if (relay->stdin_open()) {
                stdin_index = static_cast<int>(n);
                fds[n++] = {STDIN_FILENO, POLLIN, 0};
            }
        }
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            raind::throw_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(signals.fd(), &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGWINCH && relay)
                    relay->resize_from_stdin();
                else if (info.ssi_signo != SIGPIPE)
                    pidfd_send_signal(pidfd, static_cast<int>(info.ssi_signo), nullptr, 0);
            }
        }
        if (master_index >= 0 && fds[master_index].revents)
            master_open = relay->pump_master();
        if (stdin_index >= 0 && fds[stdin_index].revents)
            relay->pump_stdin();
        if (fds[0].revents & POLLIN) {
            // Whatever the program wrote last is still in the pty.
            while (master_open && relay->pump_master()) {
                pollfd p{relay->master_fd(), POLLIN, 0};
                if (::poll(&p, 1, 0) <= 0)
                    break;
            }
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                    raind::throw_errno("wait for the container process");
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
            return 1;
        }
    }
}

} // namespace droplet
