#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "capabilities.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace droplet {
namespace {

int rlimit_resource(const std::string& name) {
    static const struct {
        const char* name;
        int resource;
    } table[] = {{"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
                 {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
                 {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
                 {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
                 {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
                 {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
                 {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
                 {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK}};
    for (const auto& e : table)
        if (name == e.name)
            return e.resource;
    throw raind::Error("process.rlimits: unknown rlimit \"" + name + "\"");
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
    for (const std::string& e : env)
        if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
            return e.substr(key.size() + 1);
    return {};
}

bool is_executable_file(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

} // namespace

void apply_rlimits(const std::vector<Rlimit>& rlimits) {
    for (const Rlimit& r : rlimits) {
        rlimit value{static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
        int resource = rlimit_resource(r.type);
        if (::setrlimit(resource, &value) == 0)
            continue;
        int err = errno;
        rlimit current{};
        ::getrlimit(resource, &current);
        std::string msg = "process.rlimits: set " + r.type + " to soft " + std::to_string(r.soft) + ", hard " +
                          std::to_string(r.hard);
        if (err == EPERM && value.rlim_max > current.rlim_max)
            throw raind::Error(msg + ": the hard limit is above the current hard limit " +
                               std::to_string(current.rlim_max) + " and raising it needs CAP_SYS_RESOURCE");
        raind::throw_errno(msg, err);
    }
}

void apply_oom_score_adj(const Process& process) {
    if (!process.oom_score_adj)
        return;
    raind::UniqueFd fd(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
    std::string value = std::to_string(*process.oom_score_adj);
    if (!fd || ::write(fd.get(), value.data(), value.size()) < 0)
        raind::throw_errno("process.oomScoreAdj: write " + value + " to /proc/self/oom_score_adj");
}

std::string find_executable(const Process& process) {
    const std::string& name = process.args.at(0);
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) < 0)
            raind::throw_errno("process.args[0]: " + name);
        return name;
    }
    std::string path = env_value(process.env, "PATH");
    if (path.empty())
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos)
            end = path.size();
        std::string dir = path.substr(start, end - start);
        if (dir.empty())
            dir = ".";
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate))
            return candidate;
        start = end + 1;
    }
    throw raind::Error("process.args[0]: executable file \"" + name + "\" not found in $PATH (" + path + ")");
}

void enter_cwd(const Process& process) {
    if (::chdir(process.cwd.c_str()) < 0)
        raind::throw_errno("process.cwd: chdir " + process.cwd);
}

void become_process_user(const Process& process, bool in_user_namespace) {
    if (process.capabilities) {
        apply_bounding_set(*process.capabilities);
        // Keep the permitted set across the uid change; capset below trims it.
        if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
            raind::throw_errno("prctl PR_SET_KEEPCAPS");
    }
    const User& u = process.user;
    // setgroups is denied in a user namespace whose setgroups file says "deny"; no groups
    // were asked for, there is nothing to set.
    if (::setgroups(u.additional_gids.size(), u.additional_gids.data()) < 0 &&
        !(in_user_namespace && errno == EPERM && u.additional_gids.empty()))
        raind::throw_errno("process.user.additionalGids: setgroups");
    if (::setresgid(u.gid, u.gid, u.gid) < 0)
        raind::throw_errno("process.user.gid: setresgid " + std::to_string(u.gid));
    if (::setresuid(u.uid, u.uid, u.uid) < 0)
        raind::throw_errno("process.user.uid: setresuid " + std::to_string(u.uid));
    if (process.capabilities) {
        apply_capability_sets(*process.capabilities);
        ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }
    if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        raind::throw_errno("process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS");
    if (process.user.umask)
        ::umask(*process.user.umask);
    else
        ::umask(022);
}

void prepare_exec_fds(unsigned preserve_fds) {
    if (::close_range(3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        raind::throw_errno("close_range");
    // Preserved fds must survive execve even if the caller opened them close-on-exec.
    for (unsigned fd = 3; fd < 3 + preserve_fds; ++fd) {
        int flags = ::fcntl(static_cast<int>(fd), F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC))
            ::fcntl(static_cast<int>(fd), F_SETFD, flags & ~FD_CLOEXEC);
    }
}

unsigned inherited_listen_fds() {
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    if (!pid || !fds || std::atoi(pid) != ::getpid())
        return 0;
    int n = std::atoi(fds);
    return n > 0 ? static_cast<unsigned>(n) : 0;
}

std::vector<std::string> process_environment(const Process& process, unsigned listen_fds) {
    std::vector<std::string> env = process.env;
    if (listen_fds > 0) {
        // The container's init is pid 1 in its namespace (or keeps its pid without one).
        env.push_back("LISTEN_FDS=" + std::to_string(listen_fds));
        env.push_back("LISTEN_PID=" + std::to_string(::getpid()));
    }
    return env;
}

void exec_process(const std::string& path, const Process& process, const std::vector<std::string>& env) {
    std::vector<char*> argv, envp;
    for (const std::string& a : process.args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const std::string& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    raind::throw_errno("process.args[0]: exec " + path);
}

} // namespace droplet
