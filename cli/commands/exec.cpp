// raind exec [-i] [-t] [-e] [-u] [-w] CONTAINER COMMAND...: a process in a running container,
// on this terminal (its own pty with -t: resize, ^C), exiting with the process's status.
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "attach.hpp"
#include "client.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "terminal.hpp"

namespace raind::cli {
namespace {

struct ExecFlags {
    bool interactive = false, tty = false;
    std::vector<std::string> env;
    std::string user, workdir;
};

// "exit <status>" from the shim, through condenser, once the process has ended.
int read_status(int fd) {
    std::string line;
    char buffer[64];
    while (line.find('\n') == std::string::npos) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw raind::Error("the container's shim went away before reporting the exec's status");
        line.append(buffer, static_cast<size_t>(n));
    }
    if (line.rfind("exit ", 0) != 0)
        throw raind::Error("unexpected status from the shim: " + line);
    return std::stoi(line.substr(5));
}

// Copies between this terminal and the process until its output ends. Returns 128+signal when
// a signal ended raind first.
std::optional<int> copy_streams(bool tty, bool interactive, raind::UniqueFd* in, raind::UniqueFd* out,
                                raind::UniqueFd* err) {
    std::optional<RawTerminal> raw;
    if (tty) {
        if (interactive && ::isatty(STDIN_FILENO))
            raw.emplace(STDIN_FILENO);
        copy_window_size(out->get());
    }
    sigset_t set = relay_signals();
    raind::UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    bool stdin_open = interactive;
    char buffer[32768];
    while (*out || (err && *err)) {
        pollfd fds[4] = {{out->get(), POLLIN, 0},
                         {err && *err ? err->get() : -1, POLLIN, 0},
                         {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                         {signals.get(), POLLIN, 0}};
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            raind::throw_errno("poll the exec's streams");
        }
        if (fds[3].revents) {
            signalfd_siginfo info;
            while (::read(signals.get(), &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGWINCH) {
                    if (tty)
                        copy_window_size(out->get());
                } else {
                    return 128 + static_cast<int>(info.ssi_signo);
                }
            }
        }
        if (fds[2].revents) {
            ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
            if (n > 0) {
                write_all(tty ? out->get() : in->get(), buffer, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                stdin_open = false;
                if (!tty)
                    in->reset(); // the process sees the end of its input
            }
        }
        for (int i = 0; i < 2; ++i) {
            raind::UniqueFd* fd = i == 0 ? out : err;
            if (!fds[i].revents || !fd || !*fd)
                continue;
            ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) // EOF, or EIO from a pty whose process is gone
                fd->reset();
            else
                write_all(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buffer, static_cast<size_t>(n));
        }
    }
    return std::nullopt;
}

} // namespace

void add_exec(CLI::App& app) {
    auto* command = app.add_subcommand(
        "exec", "Run a command in a running container: raind exec [OPTIONS] CONTAINER COMMAND...; exits with its status");
    auto flags = std::make_shared<ExecFlags>();
    command->add_flag("-i,--interactive", flags->interactive, "send standard input to it");
    command->add_flag("-t,--tty", flags->tty, "give it a terminal");
    command->add_option("-e,--env", flags->env, "environment variable KEY=value")->allow_extra_args(false);
    command->add_option("-u,--user", flags->user, "user[:group] to run as");
    command->add_option("-w,--workdir", flags->workdir, "working directory");
    command->prefix_command();
    set_action(*command, [=] {
        auto rest = command->remaining();
        if (rest.size() < 2)
            throw CLI::ValidationError("COMMAND", "raind exec needs a container and a command");
        std::vector<std::string> argv(rest.begin() + 1, rest.end());
        std::map<std::string, sdbus::Variant> options;
        if (flags->tty)
            options["tty"] = sdbus::Variant(true);
        if (!flags->env.empty())
            options["env"] = sdbus::Variant(flags->env);
        if (!flags->user.empty())
            options["user"] = sdbus::Variant(flags->user);
        if (!flags->workdir.empty())
            options["workdir"] = sdbus::Variant(flags->workdir);

        block_relay_signals();
        Client client;
        auto [tty, fds, status] = client.manager().ExecContainer(rest[0], argv, options);
        std::vector<raind::UniqueFd> owned;
        for (auto& fd : fds)
            owned.emplace_back(fd.release());
        raind::UniqueFd status_fd(status.release());
        std::optional<int> interrupted;
        if (tty && owned.size() == 1) {
            interrupted = copy_streams(true, flags->interactive, nullptr, &owned[0], nullptr);
        } else if (!tty && owned.size() == 3) {
            if (!flags->interactive)
                owned[0].reset();
            interrupted = copy_streams(false, flags->interactive, &owned[0], &owned[1], &owned[2]);
        } else {
            throw raind::Error("condenser sent " + std::to_string(owned.size()) + " file descriptors for the exec");
        }
        return interrupted ? *interrupted : read_status(status_fd.get());
    });
}

} // namespace raind::cli
