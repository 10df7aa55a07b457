// Putting the shim in the background: double fork, new session, stdio on /dev/null, none of
// the caller's fds; the caller waits only for the create result.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "shim.hpp"

namespace shim {

int launch(const ShimOptions& options) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) < 0) {
        std::perror("droplet-shim: pipe");
        return 1;
    }
    pid_t child = ::fork();
    if (child < 0) {
        std::perror("droplet-shim: fork");
        return 1;
    }
    if (child == 0) {
        // Double fork: the shim is re-parented to init (or the caller's subreaper) and,
        // in its own session, no terminal signal of the caller reaches it.
        ::setsid();
        if (::fork() != 0)
            ::_exit(0);
        // Whatever else the caller left open (its sockets, pipes) is not ours to keep alive.
        ::close_range(3, static_cast<unsigned>(ready[1]) - 1, 0);
        ::close_range(static_cast<unsigned>(ready[1]) + 1, ~0U, 0);
        int null = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; ++fd)
            ::dup2(null, fd);
        if (null > 2)
            ::close(null);
        [[maybe_unused]] int r = ::chdir("/");
        ::signal(SIGPIPE, SIG_IGN);
        ::signal(SIGHUP, SIG_IGN);
        ::_exit(run_shim(options, ready[1]));
    }
    ::close(ready[1]);
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = ::read(ready[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        reply.append(buf, static_cast<size_t>(n));
        if (reply.find('\n') != std::string::npos)
            break;
    }
    ::close(ready[0]);
    if (reply.rfind("ok ", 0) == 0)
        return 0;
    if (reply.rfind("error ", 0) == 0)
        std::fprintf(stderr, "droplet-shim: %s", reply.c_str() + 6);
    else
        std::fprintf(stderr, "droplet-shim: the shim of %s exited before reporting\n", options.id.c_str());
    return 1;
}

} // namespace shim
