#include "runtime_call.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.hpp"
#include "fd.hpp"

namespace shim {

RuntimeResult run_runtime(const Runtime& runtime, const std::vector<std::string>& args, int stdin_fd, int stdout_fd,
                          int stderr_fd) {
    std::vector<std::string> argv{runtime.path};
    argv.insert(argv.end(), runtime.global_args.begin(), runtime.global_args.end());
    if (runtime.systemd_cgroup)
        argv.push_back("--systemd-cgroup");
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);

    int capture[2];
    if (::pipe2(capture, O_CLOEXEC) < 0)
        raind::throw_errno("pipe for " + runtime.path);
    raind::UniqueFd capture_read(capture[0]), capture_write(capture[1]);
    raind::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null)
        raind::throw_errno("open /dev/null");
    int in = stdin_fd >= 0 ? stdin_fd : null.get();
    int out = stdout_fd >= 0 ? stdout_fd : capture[1];
    int err = stderr_fd >= 0 ? stderr_fd : capture[1];

    pid_t pid = ::fork();
    if (pid < 0)
        raind::throw_errno("fork for " + runtime.path);
    if (pid == 0) {
        // Only async-signal-safe calls until exec. dup2 onto itself keeps CLOEXEC, so unset it.
        int fds[3] = {in, out, err};
        for (int target = 0; target < 3; ++target) {
            if (fds[target] == target)
                ::fcntl(target, F_SETFD, 0);
            else
                ::dup2(fds[target], target);
        }
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    capture_write.reset();
    RuntimeResult result;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // Read without blocking: a process the runtime left behind (the container) may still
    // hold the write end, so waiting for EOF could wait forever.
    ::fcntl(capture_read.get(), F_SETFL, O_NONBLOCK);
    char buf[4096];
    for (ssize_t n; (n = ::read(capture_read.get(), buf, sizeof buf)) > 0 && result.error.size() < 65536;)
        result.error.append(buf, static_cast<size_t>(n));
    while (!result.error.empty() && (result.error.back() == '\n' || result.error.back() == ' '))
        result.error.pop_back();
    if (result.status == 127 && result.error.empty())
        result.error = "cannot execute the OCI runtime " + runtime.path;
    return result;
}

} // namespace shim
