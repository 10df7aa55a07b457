#include "hooks.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include "pidfd.hpp"
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"

namespace droplet {
namespace {

void run_one(const Hook& hook, const std::string& state_json) {
    int pair[2];
    // A socket, not a pipe: a hook that ignores stdin must not kill us with SIGPIPE.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        raind::throw_errno("socketpair for the hook's stdin");
    raind::UniqueFd ours(pair[0]), theirs(pair[1]);

    std::vector<char*> argv, envp;
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = hook.env;
    for (std::string& e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0)
        raind::throw_errno("fork");
    if (pid == 0) {
        // Only async-signal-safe calls from here to execve.
        ::dup2(theirs.get(), STDIN_FILENO);
        ::close_range(3, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        const char* msg = std::strerror(errno);
        [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, msg, std::strlen(msg));
        ::_exit(127);
    }
    theirs.reset();
    raind::UniqueFd pidfd(pidfd_open(pid, 0));
    const char* data = state_json.data();
    size_t left = state_json.size();
    while (left > 0) {
        ssize_t n = ::send(ours.get(), data, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // the hook closed stdin without reading it all; that is its business
        data += n;
        left -= static_cast<size_t>(n);
    }
    ours.reset();

    if (hook.timeout && pidfd) {
        pollfd p{pidfd.get(), POLLIN, 0};
        int r;
        while ((r = ::poll(&p, 1, *hook.timeout * 1000)) < 0 && errno == EINTR) {
        }
        if (r == 0) {
            pidfd_send_signal(pidfd.get(), SIGKILL, nullptr, 0);
            ::waitpid(pid, nullptr, 0);
            throw raind::Error("timed out after " + std::to_string(*hook.timeout) + "s and was killed");
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            raind::throw_errno("wait for the hook");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFEXITED(status))
        throw raind::Error(WEXITSTATUS(status) == 127 ? "could not be executed (exit status 127)"
                                                      : "exited with status " + std::to_string(WEXITSTATUS(status)));
    throw raind::Error(std::string("killed by signal ") + ::sigabbrev_np(WTERMSIG(status)));
}

std::string describe(const char* kind, size_t index, const Hook& hook) {
    return std::string(kind) + " hook [" + std::to_string(index) + "] " + hook.path;
}

} // namespace

void run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        try {
            run_one(hooks[i], state_json);
        } catch (const raind::Error& e) {
            throw raind::Error(describe(kind, i, hooks[i]) + ": " + e.what());
        }
    }
}

void run_hooks_warn(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json) noexcept {
    for (size_t i = 0; i < hooks.size(); ++i) {
        try {
            run_one(hooks[i], state_json);
        } catch (const std::exception& e) {
            raind::log::warning(describe(kind, i, hooks[i]) + ": " + e.what() + ", ignoring");
        }
    }
}

} // namespace droplet
