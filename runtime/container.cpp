#include "container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include "pidfd.hpp"
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "apparmor.hpp"
#include "capabilities.hpp"
#include "container_cgroup.hpp"
#include "console.hpp"
#include "error.hpp"
#include "file_util.hpp"
#include "hooks.hpp"
#include "init.hpp"
#include "log.hpp"
#include "namespaces.hpp"
#include "process.hpp"
#include "rootfs.hpp"
#include "seccomp.hpp"
#include "spec.hpp"
#include "sync.hpp"

namespace droplet {
namespace {

// A unix socket path relative to a directory fd, short enough for sun_path whatever --root is.
sockaddr_un socket_address(int dir_fd, const char* name) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir_fd, name);
    return addr;
}

void make_dirs(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST)
        return;
    if (errno != ENOENT)
        raind::throw_errno("create " + path);
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0)
        raind::throw_errno("create " + path);
    make_dirs(path.substr(0, slash), 0711);
    if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
        raind::throw_errno("create " + path);
}

// Undoes a half-made container: the init (if any) is killed and reaped, the state is removed.
class CreateCleanup {
public:
    explicit CreateCleanup(std::string dir) : dir_(std::move(dir)) {}
    CreateCleanup(const CreateCleanup&) = delete;
    CreateCleanup& operator=(const CreateCleanup&) = delete;
    ~CreateCleanup() {
        if (done_)
            return;
        for (pid_t pid : {init_, intermediate_}) {
            if (pid > 0) {
                ::kill(pid, SIGKILL);
                while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
                }
            }
        }
        remove_state_dir(dir_);
    }
    void set_intermediate(pid_t pid) { intermediate_ = pid; }
    void set_init(pid_t pid) { init_ = pid; }
    void reaped_intermediate() { intermediate_ = 0; }
    void release() { done_ = true; }

private:
    std::string dir_;
    pid_t intermediate_ = 0, init_ = 0;
    bool done_ = false;
};

std::string describe_exit(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) <= 0)
        return "";
    if (WIFEXITED(status))
        return " (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
    if (WIFSIGNALED(status))
        return std::string(" (killed by SIG") + ::sigabbrev_np(WTERMSIG(status)) + ")";
    return "";
}

Spec load_saved_spec(const std::string& dir) { return parse_spec(read_file(dir + "/" + config_copy_name)); }

bool wait_for_exit(int pidfd, int timeout_ms) {
    pollfd p{pidfd, POLLIN, 0};
    int r;
    while ((r = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    return r > 0;
}

} // namespace

CreatedContainer create_container(const std::string& root, const CreateOptions& o) {
    validate_id(o.id);
    char resolved[PATH_MAX];
    std::string bundle_arg = o.bundle.empty() ? "." : o.bundle;
    if (!::realpath(bundle_arg.c_str(), resolved))
        raind::throw_errno("bundle " + bundle_arg);
    std::string bundle = resolved;
    std::string config_text = read_file(bundle + "/config.json");
    Spec spec = parse_spec(config_text);
    if (!spec.has_process)
        throw raind::Error("config.json: process: is required to create a container");
    if (spec.process.capabilities)
        check_capabilities(*spec.process.capabilities, spec.has_namespace("user"));
    check_apparmor(spec.process);
    std::string rootfs = spec.root.path.front() == '/' ? spec.root.path : bundle + "/" + spec.root.path;
    struct stat st{};
    if (::stat(rootfs.c_str(), &st) < 0)
        raind::throw_errno("root.path " + rootfs);
    if (!S_ISDIR(st.st_mode))
        throw raind::Error("root.path " + rootfs + ": not a directory");
    // The root filesystem is built with mounts and pivot_root: in a new mount namespace, or in
    // the one a path names (the spec puts the container there, as runc and crun do), never in
    // droplet's own, where it would rearrange the host's mounts.
    const Namespace* mount_ns = spec.find_namespace("mount");
    if (!mount_ns)
        throw raind::Error("config.json: linux.namespaces: a new mount namespace (type \"mount\" without a path) "
                           "or another one's path is required to set up the root filesystem");
    validate_rootfs(spec);
    NamespacePlan namespaces = plan_namespaces(spec);
    if (joins_own_mount_namespace(namespaces))
        throw raind::Error("config.json: linux.namespaces: mount namespace path " + mount_ns->path +
                           " is droplet's own: setting up the root filesystem there would rearrange the host's "
                           "mounts; use a new mount namespace (no path) or another one's path");

    ContainerState state;
    state.oci_version = spec.oci_version;
    state.id = o.id;
    state.bundle = bundle;
    state.rootfs = rootfs;
    state.created = now_rfc3339();
    state.owner = ::getuid();
    state.annotations = spec.annotations;
    // Before anything exists: a bad profile leaves nothing behind.
    SeccompSetup seccomp = prepare_seccomp(spec, state, Status::creating, seccomp_cache_dir(root));
    bool terminal = spec.process.terminal;
    raind::UniqueFd console_socket;
    if (terminal) {
        if (!o.console_socket.empty())
            console_socket = connect_console_socket(o.console_socket);
        else if (!o.keep_console)
            throw raind::Error("process.terminal is true but no --console-socket was given to receive the pty master");
    }

    std::unique_ptr<CgroupManager> cgroup = make_cgroup_manager(cgroup_config(spec, o.id, o.systemd_cgroup));
    CgroupCreation cgroup_creation(*cgroup); // declared first: undone after the processes are killed

    make_dirs(root, 0700);
    std::string dir = state_dir(root, o.id);
    if (::mkdir(dir.c_str(), 0700) < 0) {
        if (errno == EEXIST)
            throw raind::Error("container \"" + o.id + "\" already exists");
        raind::throw_errno("create state directory " + dir);
    }
    CreateCleanup cleanup(dir);
    // Held until create returns: `delete` tells a create in progress from the leftovers of
    // one that was killed (state directory without state.json) by this lock.
    raind::UniqueFd lock(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock || ::flock(lock.get(), LOCK_EX) < 0)
        raind::throw_errno("lock " + dir);
    write_file_atomic(dir + "/" + config_copy_name, config_text);

    raind::UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd)
        raind::throw_errno("open " + dir);
    raind::UniqueFd start_listen(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!start_listen)
        raind::throw_errno("socket for " + dir + "/" + start_socket_name);
    sockaddr_un addr = socket_address(dir_fd.get(), start_socket_name);
    if (::bind(start_listen.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::listen(start_listen.get(), 1) < 0)
        raind::throw_errno("listen on " + dir + "/" + start_socket_name);

    Pty pty;
    bool console_in_container = terminal && mounts_own_devpts(spec);
    if (terminal && !console_in_container)
        pty = open_pty(spec.process.console_size, map_to_host(spec.linux.uid_mappings, spec.process.user.uid),
                       map_to_host(spec.linux.gid_mappings, 5));

    auto [parent_sync, child_sync] = SyncSocket::make_pair();
    InitContext context;
    context.spec = &spec;
    context.namespaces = &namespaces;
    context.sync = &child_sync;
    context.start_listen_fd = start_listen.get();
    context.console_slave_fd = pty.slave ? pty.slave.get() : -1;
    context.console_in_container = console_in_container;
    context.rootfs = rootfs;
    context.rootfs_options.no_pivot = o.no_pivot;
    context.rootfs_options.in_user_namespace = spec.has_namespace("user");
    context.rootfs_options.console_path = pty.slave_path;
    context.preserve_fds = o.preserve_fds;
    context.listen_fds = inherited_listen_fds();
    context.parent_only_fds = {parent_sync.fd(), dir_fd.get(), lock.get()};
    if (pty.master)
        context.parent_only_fds.push_back(pty.master.get());
    if (console_socket)
        context.parent_only_fds.push_back(console_socket.get());
    context.seccomp = &seccomp;

    bool in_cgroup = false;
    pid_t intermediate = fork_into_cgroup(cgroup->precreate(), in_cgroup);
    if (intermediate < 0)
        raind::throw_errno("fork");
    if (intermediate == 0)
        run_intermediate(context);
    cleanup.set_intermediate(intermediate);
    cgroup->enter(intermediate, in_cgroup);
    set_cgroup_record(state, cgroup->record()); // the systemd driver learns its path in enter()
    parent_sync.send(SyncType::cgroup_ready);
    child_sync.close();
    start_listen.reset();
    pty.slave.reset();
    seccomp.close_parent_fds();

    raind::UniqueFd pidfd;

    for (SyncMessage m;;) {
        if (!parent_sync.receive(m)) {
            pid_t who = state.pid > 0 ? state.pid : intermediate;
            throw raind::Error("the container init exited during setup" + describe_exit(who));
        }
        if (m.type == SyncType::error)
            throw raind::Error(m.payload);
        if (m.type == SyncType::userns_ready) {
            write_id_mappings(intermediate, spec);
            parent_sync.send(SyncType::userns_mapped);
        } else if (m.type == SyncType::init_pid) {
            state.pid = static_cast<pid_t>(std::stol(m.payload));
            cleanup.set_init(state.pid);
            pidfd.reset(pidfd_open(state.pid, 0));
            if (!pidfd)
                raind::throw_errno("pidfd_open for the container init");
            state.pid_start_time = process_start_time(state.pid);
            while (::waitpid(intermediate, nullptr, 0) < 0 && errno == EINTR) {
            }
            cleanup.reaped_intermediate();
            // The init and the intermediate share this socket: without the go-ahead, a fast
            // init could report `created` (or ask for the prestart hooks, whose state needs
            // the pid) before the intermediate's init_pid arrives.
            parent_sync.send(SyncType::init_pid_known);
        } else if (m.type == SyncType::hooks_request) {
            try {
                // The create-time hooks see `created`, as crun and runtime-tools' validation
                // expect: the environment they may adjust is complete and the pid is known.
                std::string created_state = state_text(state, Status::created);
                run_hooks(spec.hooks.prestart, "prestart", created_state);
                run_hooks(spec.hooks.create_runtime, "createRuntime", created_state);
            } catch (const raind::Error&) {
                // The spec: stop the container, then the poststop hooks, then report.
                pidfd_send_signal(pidfd.get(), SIGKILL, nullptr, 0);
                run_hooks_warn(spec.hooks.poststop, "poststop", state_text(state, Status::stopped));
                throw;
            }
            parent_sync.send(SyncType::hooks_done, state_text(state, Status::created));
        } else if (m.type == SyncType::console && m.fd) {
            pty.master = std::move(m.fd);
            pty.slave_path = "/dev/console";
        } else if (m.type == SyncType::created) {
            break;
        } else {
            throw raind::Error("unexpected message from the container init");
        }
    }

    save_state(dir, state);
    if (!o.pid_file.empty())
        write_file_atomic(o.pid_file, std::to_string(state.pid), 0644);
    CreatedContainer created;
    if (console_socket)
        send_fd(console_socket.get(), pty.master.get(), pty.slave_path);
    else if (o.keep_console)
        created.console_master = std::move(pty.master);
    cleanup.release();
    cgroup_creation.release();
    created.state = std::move(state);
    created.pidfd = std::move(pidfd);
    return created;
}

void start_container(const std::string& root, const std::string& id) {
    ContainerState state = load_state(root, id);
    // Two concurrent starts: the second waits here and then finds the container running.
    std::string locked_dir = state_dir(root, id);
    raind::UniqueFd lock(::open(locked_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock || ::flock(lock.get(), LOCK_EX) < 0)
        raind::throw_errno("lock " + locked_dir);
    Status status = current_status(root, state);
    if (status != Status::created)
        throw raind::Error("cannot start container \"" + id + "\": it is " + status_name(status) +
                           ", not created");
    std::string dir = state_dir(root, id);
    raind::UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd)
        raind::throw_errno("open " + dir);
    raind::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock)
        raind::throw_errno("socket");
    sockaddr_un addr = socket_address(dir_fd.get(), start_socket_name);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        raind::throw_errno("start container \"" + id + "\": connect to its init");
    // Only this start may proceed; a second one finds the socket gone.
    ::unlinkat(dir_fd.get(), start_socket_name, 0);
    std::string error;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(sock.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        error.append(buf, static_cast<size_t>(n));
    }
    if (!error.empty())
        throw raind::Error("start container \"" + id + "\": " + error);
    Spec spec = load_saved_spec(dir);
    if (!spec.hooks.poststart.empty())
        run_hooks_warn(spec.hooks.poststart, "poststart", state_text(state, Status::running));
}

void kill_container(const std::string& root, const std::string& id, int signal, bool all) {
    ContainerState state = load_state(root, id);
    raind::UniqueFd pidfd = open_init_pidfd(state);
    if (!pidfd || current_status(root, state) == Status::stopped)
        throw raind::Error("container \"" + id + "\" is not running");
    if (all)
        signal_container_processes(state, signal);
    if (pidfd_send_signal(pidfd.get(), signal, nullptr, 0) < 0 && errno != ESRCH)
        raind::throw_errno("send signal " + std::to_string(signal) + " to container \"" + id + "\"");
}

namespace {

// A state directory without state.json: a create in progress, or one that was killed.
bool remove_interrupted_create(const std::string& root, const std::string& id) {
    std::string dir = state_dir(root, id);
    raind::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::access((dir + "/state.json").c_str(), F_OK) == 0)
        return false;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
        throw raind::Error("cannot delete container \"" + id + "\": it is being created");
    remove_state_dir(dir);
    raind::log::warning("container \"" + id + "\": removed what an interrupted create left behind");
    return true;
}

} // namespace

void delete_container(const std::string& root, const std::string& id, bool force) {
    validate_id(id);
    if (remove_interrupted_create(root, id))
        return;
    ContainerState state = load_state(root, id);
    Status status = current_status(root, state);
    // The spec: deleting a container that is not stopped is an error and changes nothing.
    if (status != Status::stopped && !force)
        throw raind::Error("cannot delete container \"" + id + "\": it is " + status_name(status) +
                           " (stop it first or use --force)");
    std::string dir = state_dir(root, id);
    if (status != Status::stopped) {
        raind::UniqueFd pidfd = open_init_pidfd(state);
        if (pidfd) {
            kill_container_processes(state);
            pidfd_send_signal(pidfd.get(), SIGKILL, nullptr, 0);
            if (!wait_for_exit(pidfd.get(), 10000))
                throw raind::Error("delete container \"" + id + "\": its init did not exit after SIGKILL");
            // If we are the parent (run), reap it; otherwise its parent does.
            ::waitpid(state.pid, nullptr, WNOHANG);
        }
    }
    std::vector<Hook> poststop;
    try {
        poststop = load_saved_spec(dir).hooks.poststop;
    } catch (const raind::Error& e) {
        raind::log::warning("container \"" + id + "\": cannot read its saved config for poststop hooks: " +
                            e.what() + ", ignoring");
    }
    destroy_container_cgroup(state);
    remove_state_dir(dir);
    if (!poststop.empty())
        run_hooks_warn(poststop, "poststop", state_text(state, Status::stopped));
}

} // namespace droplet
