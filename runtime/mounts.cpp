#include "mounts.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include <array>
#include <fstream>

#include "error.hpp"
#include "mount_api.hpp"
#include "mount_options.hpp"
#include "safe_path.hpp"
#include "tmpcopyup.hpp"

namespace droplet {

namespace {

constexpr unsigned long remount_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | MS_NOSYMFOLLOW;
constexpr unsigned long atime_flags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

struct Context {
    const MountTarget& target;
    const Mount& mount;
    std::string destination; // cleaned
    MountOptions options;

    std::string in_rootfs() const { return destination + " (in " + target.rootfs + ")"; }
};

bool source_is_directory(const std::string& source) {
    struct stat st {};
    // A missing source fails later, at clone time, with the source named in the error.
    return stat(source.c_str(), &st) != 0 || S_ISDIR(st.st_mode);
}

// Flags a user namespace may not clear on a bind of a mount it did not create: the kernel locks
// them, so the remount keeps them instead of failing with EPERM (what runc does).
unsigned long locked_flags(const std::string& source) {
    struct statvfs st {};
    if (statvfs(source.c_str(), &st) != 0)
        return 0;
    unsigned long flags = 0;
    if (st.f_flag & ST_RDONLY)
        flags |= MS_RDONLY;
    if (st.f_flag & ST_NOSUID)
        flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV)
        flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    return flags;
}

// The bind's per-mount flags are replaced by the ones written (mount's MS_REMOUNT|MS_BIND
// semantics), but only when some were written: a plain "bind" keeps the source's flags.
void apply_bind_flags(const Context& context, int tree_fd, const std::string& source, const std::string& what) {
    const MountOptions& options = context.options;
    const unsigned long written = (options.flags | options.clear_flags) & (remount_flags | atime_flags);
    if (written == 0)
        return;
    unsigned long locked = context.target.in_user_namespace ? locked_flags(source) : 0;
    const unsigned long wanted = (options.flags | locked) & remount_flags;
    uint64_t set = mount_attributes_from_flags(wanted, false);
    uint64_t clear = mount_attributes_from_flags(remount_flags & ~wanted, false);
    if (options.atime_given && !(locked & MS_NOATIME)) {
        set |= mount_attributes_from_flags(options.flags & atime_flags, true);
        clear |= MOUNT_ATTR__ATIME;
    }
    set_mount_attributes(tree_fd, set, clear, false, what);
}

void bind_mount(const Context& context, int target_fd, const std::string& source, bool recursive) {
    const std::string what = "bind-mount " + source + " on " + context.in_rootfs();
    auto tree = clone_tree(AT_FDCWD, source, recursive, what);
    apply_bind_flags(context, tree.get(), source, what);
    attach_tree(tree.get(), target_fd, what);
}

// "0::/some/path" from /proc/self/cgroup: this process's cgroup2 path.
std::string own_cgroup2_path() {
    std::ifstream file("/proc/self/cgroup");
    std::string line;
    while (std::getline(file, line))
        if (line.rfind("0::", 0) == 0)
            return line.substr(3);
    return {};
}

std::string host_cgroup2_mount() {
    for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        struct statfs st {};
        if (statfs(candidate, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
            return candidate;
    }
    return {};
}

int filesystem_mount(const Context& context, int target_fd, const std::string& type, const std::string& data) {
    const unsigned long flags = context.options.flags & ~static_cast<unsigned long>(MS_REC);
    const std::string& source = context.mount.source.empty() ? type : context.mount.source;
    return mount(source.c_str(), fd_path(target_fd).c_str(), type.c_str(), flags, data.empty() ? nullptr : data.c_str());
}

// devpts refuses gid=5 when group 5 is not mapped in the user namespace; without it the ptys
// belong to the container's root group, which is what crun settles for too.
std::string without_gid_option(const std::string& data) {
    std::string kept;
    std::string::size_type start = 0;
    while (start <= data.size()) {
        auto end = data.find(',', start);
        if (end == std::string::npos)
            end = data.size();
        std::string option = data.substr(start, end - start);
        if (!option.empty() && option.rfind("gid=", 0) != 0)
            kept += (kept.empty() ? "" : ",") + option;
        start = end + 1;
    }
    return kept;
}

void other_mount(const Context& context, int target_fd) {
    const std::string& type = context.mount.type;
    const std::string what = "mount " + type + " on " + context.in_rootfs();

    if (type == "cgroup" || type == "cgroup2") {
        // "cgroup" (v1) is served as cgroup2: the container sees its own cgroup namespace. Without
        // one, a fresh mount would show the host's whole tree, so bind this process's own cgroup.
        const std::string host_mount = host_cgroup2_mount();
        if (!context.target.cgroup_namespace && !host_mount.empty()) {
            bind_mount(context, target_fd, host_mount + own_cgroup2_path(), false);
            return;
        }
        Context cgroup2 = context;
        cgroup2.options.data.clear(); // v1 controller names mean nothing to cgroup2
        if (filesystem_mount(cgroup2, target_fd, "cgroup2", "") < 0)
            raind::throw_errno(what);
        return;
    }
    if (filesystem_mount(context, target_fd, type, context.options.data) == 0)
        return;
    const int error = errno;
    if (type == "sysfs" && error == EPERM && context.target.in_user_namespace) {
        // A user namespace without its own network namespace may not mount sysfs.
        bind_mount(context, target_fd, "/sys", true);
        return;
    }
    if (type == "devpts" && error == EINVAL && context.options.data.find("gid=") != std::string::npos) {
        if (filesystem_mount(context, target_fd, type, without_gid_option(context.options.data)) == 0)
            return;
    }
    raind::throw_errno(what, error);
}

} // namespace

bool is_allowed_proc_destination(const std::string& clean_destination) {
    static constexpr std::array allowed{
        "/proc",          "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",
        "/proc/stat",     "/proc/swaps",   "/proc/uptime",    "/proc/loadavg",
        "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
    };
    for (const char* path : allowed)
        if (clean_destination == path)
            return true;
    return false;
}

void mount_entry(const MountTarget& target, const Mount& mount, size_t index) {
    const std::string name = "mounts[" + std::to_string(index) + "]";
    auto clean = clean_absolute_path(mount.destination);
    if (mount.destination.empty() || mount.destination.front() != '/')
        throw raind::Error(name + ".destination \"" + mount.destination + "\": must be an absolute path");
    if (!clean)
        throw raind::Error(name + ".destination \"" + mount.destination + "\": escapes the container's root filesystem");

    Context context{target, mount, *clean, {}};
    try {
        context.options = parse_mount_options(mount.options);
    } catch (const raind::Error& e) {
        throw raind::Error(name + ".options: " + e.what());
    }
    const bool bind = context.options.is_bind() || mount.type == "bind";
    const CreateKind kind = bind && !source_is_directory(mount.source) ? CreateKind::file : CreateKind::directory;

    raind::UniqueFd target_fd;
    try {
        target_fd = create_in_root(target.root_fd, context.destination, kind);
    } catch (const raind::SystemError& e) {
        throw raind::SystemError(name + ": " + e.what() + " (in " + target.rootfs + ")", e.code());
    }
    struct statfs fs {};
    if (fstatfs(target_fd.get(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC && !is_allowed_proc_destination(context.destination))
        throw raind::Error(name + ".destination \"" + mount.destination + "\": resolves into /proc, refusing to mount over it");

    raind::UniqueFd lower_directory;
    if (context.options.tmpcopyup) // the image's content, reachable below the new tmpfs
        lower_directory = raind::UniqueFd(openat(target_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));

    if (bind)
        bind_mount(context, target_fd.get(), mount.source, context.options.is_recursive_bind());
    else
        other_mount(context, target_fd.get());

    const auto& options = context.options;
    if (options.recursive_set == 0 && options.recursive_clear == 0 && options.propagation.empty() && !lower_directory)
        return;
    // Reopen: the old fd still names the directory under the new mount.
    auto mounted = open_in_root(target.root_fd, context.destination, O_PATH);
    if (!mounted)
        throw raind::Error(name + ": " + context.in_rootfs() + " vanished after mounting");
    set_mount_attributes(mounted.get(), options.recursive_set, options.recursive_clear, true,
                         "set recursive options of " + context.in_rootfs());
    for (unsigned long propagation : options.propagation)
        set_propagation(mounted.get(), propagation, "set propagation of " + context.in_rootfs());
    if (lower_directory) {
        raind::UniqueFd upper(openat(mounted.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!upper)
            raind::throw_errno("tmpcopyup into " + context.in_rootfs());
        copy_directory_tree(lower_directory.get(), upper.get(), "tmpcopyup into " + context.in_rootfs());
    }
}

} // namespace droplet
