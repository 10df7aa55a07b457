#include "exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include "pidfd.hpp"
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apparmor.hpp"
#include "capabilities.hpp"
#include "cgroup_join.hpp"
#include "console.hpp"
#include "container_cgroup.hpp"
#include "error.hpp"
#include "file_util.hpp"
#include "foreground.hpp"
#include "namespaces.hpp"
#include "process.hpp"
#include "seccomp.hpp"
#include "spec.hpp"
#include "state.hpp"
#include "sync.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace droplet {
namespace {

uint32_t parse_id(const std::string& text, const char* what) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end || errno || v >= UINT32_MAX)
        throw raind::Error(std::string("--") + what + ": \"" + text + "\" is not a numeric id");
    return static_cast<uint32_t>(v);
}

Process build_process(const Spec& spec, const ExecOptions& o) {
    Process p;
    if (!o.process_file.empty()) {
        p = parse_process(read_file(o.process_file));
    } else {
        // Like runc: the container's own process is the template, the flags override it.
        p = spec.process;
        if (o.args.empty())
            throw raind::Error("exec: a command to run is required (or --process FILE)");
        p.args = o.args;
        p.terminal = o.tty;
    }
    if (o.tty)
        p.terminal = true;
    if (!o.cwd.empty()) {
        if (o.cwd.front() != '/')
            throw raind::Error("--cwd: \"" + o.cwd + "\" must be an absolute path");
        p.cwd = o.cwd;
    }
    for (const std::string& e : o.env) {
        if (e.find('=') == std::string::npos)
            throw raind::Error("--env: \"" + e + "\" is not of the form KEY=VALUE");
        std::string key = e.substr(0, e.find('=') + 1);
        std::erase_if(p.env, [&](const std::string& x) { return x.compare(0, key.size(), key) == 0; });
        p.env.push_back(e);
    }
    if (!o.user.empty()) {
        size_t colon = o.user.find(':');
        p.user.uid = parse_id(o.user.substr(0, colon), "user");
        p.user.gid = colon == std::string::npos ? 0 : parse_id(o.user.substr(colon + 1), "user");
    }
    for (const std::string& g : o.additional_gids)
        p.user.additional_gids.push_back(parse_id(g, "additional-gids"));
    if (o.no_new_privileges)
        p.no_new_privileges = true;
    if (!o.caps.empty()) {
        if (!p.capabilities)
            p.capabilities = Capabilities{};
        for (const std::string& c : o.caps)
            for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
                              &p.capabilities->inheritable, &p.capabilities->ambient})
                set->push_back(c);
    }
    if (p.capabilities)
        check_capabilities(*p.capabilities, spec.has_namespace("user"));
    return p;
}

struct Joined {
    std::vector<NamespaceJoin> namespaces;
    bool user = false;
};

// Every namespace of the init that differs from ours, opened through /proc while the pidfd
// pins the init.
Joined open_container_namespaces(pid_t pid) {
    static const char* types[] = {"user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount"};
    Joined joined;
    for (const char* type : types) {
        const char* name = proc_ns_name(type);
        std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + name;
        std::string ours = std::string("/proc/self/ns/") + name;
        struct stat a{}, b{};
        if (::stat(theirs.c_str(), &a) < 0) {
            if (errno == ENOENT)
                continue; // a kernel without this namespace type
            raind::throw_errno("stat " + theirs);
        }
        if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            continue;
        raind::UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            raind::throw_errno("open " + theirs);
        if (std::strcmp(type, "user") == 0)
            joined.user = true;
        joined.namespaces.push_back({namespace_flag(type), type, theirs, std::move(fd)});
    }
    return joined;
}

struct ExecChild {
    pid_t init = 0;
    const Process* process;
    Joined* joined;
    SyncSocket* sync;
    int console_slave = -1;
    bool console_in_container = false;
    unsigned preserve_fds = 0;
    std::vector<int> parent_only_fds;
    SeccompSetup* seccomp = nullptr; // the container's filter applies to exec'd processes too
};

[[noreturn]] void run_exec_process(ExecChild& c) noexcept {
    try {
        // Out of the preserved range, or it would stay open in the program and droplet would
        // never see the end of setup.
        c.sync->move_above(3 + static_cast<int>(c.preserve_fds));
        const Process& p = *c.process;
        if (c.console_in_container) {
            raind::UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
            Pty pty = open_pty_in_devpts(root.get(), p.console_size, p.user.uid);
            attach_console(pty.slave.get());
            c.sync->send_fd(SyncType::console, pty.master.get());
        } else if (c.console_slave >= 0) {
            attach_console(c.console_slave);
            ::close(c.console_slave);
        }
        apply_rlimits(p.rlimits);
        apply_oom_score_adj(p);
        enter_cwd(p);
        std::string path = find_executable(p);
        apply_apparmor(p);
        // Before any filter: a profile may deny close_range (older ones do not know it).
        prepare_exec_fds(c.preserve_fds);
        apply_seccomp_before_user_switch(c.seccomp, p);
        become_process_user(p, c.joined->user);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        apply_seccomp_before_exec(c.seccomp, p);
        exec_process(path, p, p.env);
    } catch (const std::exception& e) {
        c.sync->send_noexcept(SyncType::error, e.what());
    }
    ::_exit(127);
}

[[noreturn]] void run_exec_intermediate(ExecChild& c) noexcept {
    try {
        for (int fd : c.parent_only_fds)
            ::close(fd);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        // Through the host's /sys/fs/cgroup, before the mount namespace changes what it shows.
        join_cgroups_of(c.init);
        for (NamespaceJoin& j : c.joined->namespaces) {
            if (::setns(j.fd.get(), j.flag) < 0)
                raind::throw_errno("join the container's " + j.type + " namespace");
            j.fd.reset(); // a namespace fd of the container must not reach its process
        }
        // As the namespace's root, what we create (the pty) is owned by a mapped id.
        if (c.joined->user && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
            raind::throw_errno("switch to root in the container's user namespace");
        // The pid and time namespaces apply to children: the process itself is one more fork.
        long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
        if (pid < 0)
            raind::throw_errno("fork into the container");
        if (pid == 0)
            run_exec_process(c);
        c.sync->send(SyncType::init_pid, std::to_string(pid));
    } catch (const std::exception& e) {
        c.sync->send_noexcept(SyncType::error, e.what());
    }
    ::_exit(0);
}

} // namespace

int exec_in_container(const std::string& root, const ExecOptions& o) {
    ContainerState state = load_state(root, o.id);
    Status status = current_status(root, state);
    if (status == Status::stopped)
        throw raind::Error("cannot exec in container \"" + o.id + "\": it is stopped");
    Spec spec = parse_spec(read_file(state_dir(root, o.id) + "/" + config_copy_name));
    Process process = build_process(spec, o);
    check_apparmor(process);
    raind::UniqueFd init_pidfd = open_init_pidfd(state);
    if (!init_pidfd)
        throw raind::Error("cannot exec in container \"" + o.id + "\": its init is gone");
    Joined joined = open_container_namespaces(state.pid);
    SeccompSetup seccomp = prepare_seccomp(spec, state, status, seccomp_cache_dir(root));

    bool relay = false;
    raind::UniqueFd console_socket;
    Pty pty;
    if (process.terminal) {
        if (!o.console_socket.empty())
            console_socket = connect_console_socket(o.console_socket);
        else if (o.detach)
            throw raind::Error("exec --tty --detach needs --console-socket to receive the pty master");
        else
            relay = true;
        if (!mounts_own_devpts(spec))
            pty = open_pty(process.console_size, map_to_host(spec.linux.uid_mappings, process.user.uid),
                           map_to_host(spec.linux.gid_mappings, 5));
    }

    auto [parent_sync, child_sync] = SyncSocket::make_pair();
    ExecChild child{state.pid, &process, &joined, &child_sync, pty.slave ? pty.slave.get() : -1, false, o.preserve_fds, {}};
    child.console_in_container = process.terminal && !pty.slave;
    child.parent_only_fds = {parent_sync.fd(), init_pidfd.get()};
    if (pty.master)
        child.parent_only_fds.push_back(pty.master.get());
    if (console_socket)
        child.parent_only_fds.push_back(console_socket.get());
    child.seccomp = &seccomp;

    // The process starts inside the container's cgroup (before it joins the cgroup namespace).
    raind::UniqueFd cgroup(open_cgroup_directory(cgroup_record(state)));
    bool in_cgroup = false;
    pid_t intermediate = fork_into_cgroup(cgroup.get(), in_cgroup);
    if (intermediate < 0)
        raind::throw_errno("fork");
    if (intermediate == 0)
        run_exec_intermediate(child);
    child_sync.close();
    pty.slave.reset();
    joined.namespaces.clear();
    seccomp.close_parent_fds();

    pid_t pid = 0;
    std::string error;
    for (SyncMessage m; parent_sync.receive(m);) {
        if (m.type == SyncType::init_pid)
            pid = static_cast<pid_t>(std::stol(m.payload));
        else if (m.type == SyncType::error)
            error = m.payload;
        else if (m.type == SyncType::console && m.fd) {
            pty.master = std::move(m.fd);
            pty.slave_path = "/dev/pts";
        }
    }
    while (::waitpid(intermediate, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (!error.empty()) {
        if (pid > 0)
            ::waitpid(pid, nullptr, 0);
        throw raind::Error("exec in container \"" + o.id + "\": " + error);
    }
    if (pid <= 0)
        throw raind::Error("exec in container \"" + o.id + "\": the process exited during setup");
    raind::UniqueFd pidfd(pidfd_open(pid, 0));
    if (!o.pid_file.empty())
        write_file_atomic(o.pid_file, std::to_string(pid), 0644);
    if (console_socket)
        send_fd(console_socket.get(), pty.master.get(), pty.slave_path);
    if (o.detach)
        return 0;
    ForwardedSignals signals;
    std::unique_ptr<ConsoleRelay> console;
    if (relay)
        console = std::make_unique<ConsoleRelay>(std::move(pty.master));
    return wait_foreground(pid, pidfd.get(), signals, console.get());
}

} // namespace droplet
