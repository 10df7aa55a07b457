#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

#include "error.hpp"
#include "fd.hpp"

namespace raind::test {
namespace {

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0)
        throw_errno("pipe2");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// fork + exec where the child only makes async-signal-safe calls and reports a
// failed exec (its errno) over a close-on-exec pipe.
pid_t fork_exec(const std::vector<std::string>& argv, const Identity& who, int in_fd, int out_fd, int err_fd) {
    if (argv.empty())
        throw Error("fork_exec: empty argv");
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    Pipe status = make_pipe();

    pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("fork");
    if (pid == 0) {
        int err = 0;
        if (in_fd >= 0 && ::dup2(in_fd, STDIN_FILENO) < 0)
            err = errno;
        if (!err && out_fd >= 0 && ::dup2(out_fd, STDOUT_FILENO) < 0)
            err = errno;
        if (!err && err_fd >= 0 && ::dup2(err_fd, STDERR_FILENO) < 0)
            err = errno;
        if (!err && ::setgroups(who.groups.size(), who.groups.data()) < 0)
            err = errno;
        if (!err && ::setresgid(who.gid, who.gid, who.gid) < 0)
            err = errno;
        if (!err && ::setresuid(who.uid, who.uid, who.uid) < 0)
            err = errno;
        if (!err) {
            ::execv(args[0], args.data());
            err = errno;
        }
        (void)!::write(status.write.get(), &err, sizeof err);
        ::_exit(127);
    }
    status.write.reset();
    int err = 0;
    ssize_t n;
    do
        n = ::read(status.read.get(), &err, sizeof err);
    while (n < 0 && errno == EINTR);
    if (n == sizeof err) {
        ::waitpid(pid, nullptr, 0);
        throw_errno("starting " + argv[0] + " as uid " + std::to_string(who.uid), err);
    }
    return pid;
}

} // namespace

Identity root_identity() { return {}; }

Identity identity_of(const std::string& user) {
    passwd* pw = ::getpwnam(user.c_str());
    if (!pw)
        throw Error("user " + user + " does not exist (the sandbox creates sdtest and raindtest)");
    Identity id{pw->pw_uid, pw->pw_gid, {}};
    int count = 32;
    id.groups.resize(static_cast<size_t>(count));
    if (::getgrouplist(user.c_str(), pw->pw_gid, id.groups.data(), &count) < 0)
        throw Error("user " + user + " is in more than 32 groups");
    id.groups.resize(static_cast<size_t>(count));
    return id;
}

gid_t group_id(const std::string& name) {
    struct group* gr = ::getgrnam(name.c_str());
    if (!gr)
        throw Error("group " + name + " does not exist");
    return gr->gr_gid;
}

Child Child::spawn(const std::vector<std::string>& argv, const Identity& who) {
    return Child(fork_exec(argv, who, -1, -1, -1));
}

Child::Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

Child::~Child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int Child::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR)
            throw_errno("waitpid " + std::to_string(pid_));
    }
    pid_ = -1;
    return status;
}

void Child::signal(int sig) const noexcept {
    if (pid_ > 0)
        ::kill(pid_, sig);
}

Output run(const std::vector<std::string>& argv, const std::string& input) {
    Pipe in = make_pipe();
    Pipe out = make_pipe();
    Pipe err = make_pipe();
    Child child(fork_exec(argv, root_identity(), in.read.get(), out.write.get(), err.write.get()));
    in.read.reset();
    out.write.reset();
    err.write.reset();
    // A child that exits without reading its input must not kill the test with SIGPIPE.
    static const bool sigpipe_ignored = ::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
    (void)sigpipe_ignored;
    if (!input.empty() && ::write(in.write.get(), input.data(), input.size()) != static_cast<ssize_t>(input.size()))
        throw_errno("writing the input of " + argv[0]);
    in.write.reset();
    Output result;
    result.pid = child.pid();
    // Read both pipes together so a chatty child cannot block on a full one.
    pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    while (open_fds > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("poll on the output of " + argv[0]);
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    result.status = child.wait();
    return result;
}

bool has_exited(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    auto end_of_comm = stat.rfind(") ");
    if (end_of_comm == std::string::npos)
        return true;
    char state = stat[end_of_comm + 2];
    return state == 'Z' || state == 'X';
}

std::uint64_t start_time(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    auto end_of_comm = stat.rfind(')');
    if (end_of_comm == std::string::npos)
        throw Error("cannot read /proc/" + std::to_string(pid) + "/stat");
    std::istringstream fields(stat.substr(end_of_comm + 2));
    std::string field;
    for (int i = 3; i <= 22; ++i)
        fields >> field;
    return std::stoull(field);
}

std::string cgroup_of(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(f, line);) {
        if (line.starts_with("0::"))
            return line.substr(3);
    }
    return {};
}

} // namespace raind::test
