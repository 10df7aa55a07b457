#include "init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apparmor.hpp"
#include "console.hpp"
#include "error.hpp"
#include "file_util.hpp"
#include "hooks.hpp"
#include "process.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace droplet {
namespace {

[[noreturn]] void fail_to_parent(SyncSocket& sync, const char* what) noexcept {
    sync.send_noexcept(SyncType::error, what);
    ::_exit(1);
}

void expect(SyncSocket& sync, SyncType type, std::string* payload = nullptr) {
    SyncMessage m;
    if (!sync.receive(m))
        ::_exit(1); // droplet is gone; nobody to report to
    if (m.type != type)
        throw raind::Error("unexpected message on the sync channel");
    if (payload)
        *payload = std::move(m.payload);
}

bool has_in_container_hooks(const Spec& spec) {
    const Hooks& h = spec.hooks;
    return !h.prestart.empty() || !h.create_runtime.empty() || !h.create_container.empty() ||
           !h.start_container.empty();
}

// After `start` connected: the startContainer hooks, the user switch, execve. Errors go back
// to `start` on the connection, which closes on a successful execve (close-on-exec).
[[noreturn]] void start_process(InitContext& c, int connection, const std::string& start_state) noexcept {
    const Spec& spec = *c.spec;
    try {
        run_hooks(spec.hooks.start_container, "startContainer", start_state);
        std::string path = find_executable(spec.process);
        apply_apparmor(spec.process);
        // Before any filter: a profile may deny close_range (older ones do not know it).
        prepare_exec_fds(c.preserve_fds + c.listen_fds);
        apply_seccomp_before_user_switch(c.seccomp, spec.process);
        become_process_user(spec.process, c.rootfs_options.in_user_namespace);
        std::vector<std::string> env = process_environment(spec.process, c.listen_fds);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        apply_seccomp_before_exec(c.seccomp, spec.process);
        exec_process(path, spec.process, env);
    } catch (const std::exception& e) {
        write_all(connection, e.what(), std::strlen(e.what()));
    }
    ::_exit(1);
}

[[noreturn]] void run_init(InitContext& c) noexcept {
    SyncSocket& sync = *c.sync;
    const Spec& spec = *c.spec;
    try {
        // Until it parks, the init dies with droplet rather than linger half-built.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        // Not dumpable: no container process may ptrace or read the memory of this one.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        expect(sync, SyncType::init_pid_known);
        if (c.console_slave_fd >= 0)
            attach_console(c.console_slave_fd);
        else if (::setsid() < 0)
            raind::throw_errno("setsid");
        if (c.console_slave_fd >= 0)
            ::close(c.console_slave_fd);
        int created = c.namespaces->unshare_flags;
        if (created & CLONE_NEWUTS)
            set_hostname(spec);
        if (created & CLONE_NEWNET)
            bring_up_loopback();
        // /proc is still the host's here; after the pivot it may not be mounted at all.
        apply_oom_score_adj(spec.process);
        apply_rlimits(spec.process.rlimits);

        prepare_rootfs(spec, c.rootfs, c.rootfs_options);
        if (c.console_in_container) {
            raind::UniqueFd root(::open(c.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!root)
                raind::throw_errno("open " + c.rootfs);
            Pty pty = open_container_pty(root.get(), spec.process.console_size, spec.process.user.uid);
            attach_console(pty.slave.get());
            sync.send_fd(SyncType::console, pty.master.get());
        }

        std::string start_state;
        if (has_in_container_hooks(spec)) {
            sync.send(SyncType::hooks_request);
            expect(sync, SyncType::hooks_done, &start_state);
            run_hooks(spec.hooks.create_container, "createContainer", start_state);
        }

        finish_rootfs(spec, c.rootfs, c.rootfs_options);
        enter_cwd(spec.process);
        // Fail `create`, not `start`, when the program cannot be found.
        find_executable(spec.process);

        // droplet create exits as soon as it reads `created`; the init outlives it.
        ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        sync.send(SyncType::created);
        sync.close();

        int connection;
        while ((connection = ::accept4(c.start_listen_fd, nullptr, nullptr, SOCK_CLOEXEC)) < 0)
            if (errno != EINTR)
                ::_exit(1);
        ::close(c.start_listen_fd);
        // If the caller left a preserved fd number unused, accept may have taken it: the
        // connection must stay close-on-exec, or `start` would wait on it forever.
        int first_free = 3 + static_cast<int>(c.preserve_fds + c.listen_fds);
        if (connection < first_free) {
            int moved = ::fcntl(connection, F_DUPFD_CLOEXEC, first_free);
            ::close(connection);
            if (moved < 0)
                ::_exit(1);
            connection = moved;
        }
        start_process(c, connection, start_state);
    } catch (const std::exception& e) {
        fail_to_parent(sync, e.what());
    }
    ::_exit(1);
}

} // namespace

void run_intermediate(InitContext& c) noexcept {
    SyncSocket& sync = *c.sync;
    try {
        for (int fd : c.parent_only_fds)
            ::close(fd);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        // Everything after this (the cgroup namespace, the init) starts inside the container's cgroup.
        expect(sync, SyncType::cgroup_ready);
        bool joins_user = false;
        for (const NamespaceJoin& j : c.namespaces->join)
            joins_user = joins_user || j.flag == CLONE_NEWUSER;
        join_namespaces(*c.namespaces);
        // Our host uid means nothing in a joined user namespace: what we create would be
        // owned by an unmapped id (EOVERFLOW). Act as that namespace's root.
        if (joins_user && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
            raind::throw_errno("switch to root in the joined user namespace (is id 0 mapped?)");
        int flags = c.namespaces->unshare_flags;
        if (flags & CLONE_NEWUSER) {
            if (::unshare(CLONE_NEWUSER) < 0)
                raind::throw_errno("create the user namespace");
            // Being dumpable lets droplet (outside) write our uid_map and gid_map.
            ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
            sync.send(SyncType::userns_ready);
            expect(sync, SyncType::userns_mapped);
            ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
            // Become the namespace's root so what we create is owned by the mapped root.
            if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)
                raind::throw_errno("switch to root in the user namespace (is id 0 mapped?)");
        }
        int rest = flags & ~CLONE_NEWUSER;
        if (rest && ::unshare(rest) < 0)
            raind::throw_errno("create namespaces (unshare)");
        if (rest & CLONE_NEWTIME)
            write_time_offsets(*c.spec);
        // CLONE_PARENT: droplet, not this short-lived process, is the init's parent, so
        // `run` can wait for it.
        long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
        if (pid < 0)
            raind::throw_errno("fork the container init");
        if (pid == 0)
            run_init(c);
        sync.send(SyncType::init_pid, std::to_string(pid));
    } catch (const std::exception& e) {
        fail_to_parent(sync, e.what());
    }
    ::_exit(0);
}

} // namespace droplet
