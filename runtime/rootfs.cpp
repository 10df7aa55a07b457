#include "rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

#include "devices.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "libmount_api.hpp"
#include "mount_api.hpp"
#include "mount_options.hpp"
#include "mounts.hpp"
#include "safe_path.hpp"
#include "sysctl.hpp"

namespace droplet {

namespace {

void check_path_list(const std::vector<std::string>& paths, const std::string& field) {
    for (size_t i = 0; i < paths.size(); ++i) {
        const std::string name = "config.json: " + field + "[" + std::to_string(i) + "] \"" + paths[i] + "\": ";
        if (paths[i].empty() || paths[i].front() != '/')
            throw raind::Error(name + "must be an absolute path");
        if (!clean_absolute_path(paths[i]))
            throw raind::Error(name + "escapes the container's root filesystem");
    }
}

void check_mount(const Mount& mount, size_t index) {
    const std::string name = "config.json: mounts[" + std::to_string(index) + "]";
    const std::string destination = name + ".destination \"" + mount.destination + "\": ";
    if (mount.destination.empty() || mount.destination.front() != '/')
        throw raind::Error(destination + "must be an absolute path");
    auto clean = clean_absolute_path(mount.destination);
    if (!clean)
        throw raind::Error(destination + "escapes the container's root filesystem");
    if (*clean == "/")
        throw raind::Error(destination + "mounting over the container's root is not supported (set root.path instead)");
    if (clean->rfind("/proc/", 0) == 0 && !is_allowed_proc_destination(*clean))
        throw raind::Error(destination + "mounting over files in /proc is not allowed");
    if (mount.has_id_mappings)
        throw raind::Error(name + ": uidMappings/gidMappings (id-mapped mounts) are not supported by droplet");
    MountOptions options;
    try {
        options = parse_mount_options(mount.options);
    } catch (const raind::Error& e) {
        throw raind::Error(name + ".options: " + e.what());
    }
    const bool bind = options.is_bind() || mount.type == "bind";
    if (mount.type.empty() && !bind)
        throw raind::Error(name + ".type: missing (only bind mounts, with \"bind\" or \"rbind\" in options, may omit it)");
    if (bind && mount.source.empty())
        throw raind::Error(name + ".source: a bind mount needs a source");
}

void check_devices(const Spec& spec) {
    for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
        const Device& device = spec.linux.devices[i];
        const std::string name = "config.json: linux.devices[" + std::to_string(i) + "]";
        if (device.path.empty() || device.path.front() != '/')
            throw raind::Error(name + ".path \"" + device.path + "\": must be an absolute path");
        if (!clean_absolute_path(device.path))
            throw raind::Error(name + ".path \"" + device.path + "\": escapes the container's root filesystem");
        if (device.type != 'c' && device.type != 'b' && device.type != 'u' && device.type != 'p')
            throw raind::Error(name + ".type \"" + std::string(1, device.type) + "\": must be one of c, b, u, p");
    }
}

bool is_readonly(const Mount& mount) {
    try {
        return (parse_mount_options(mount.options).flags & MS_RDONLY) != 0;
    } catch (const raind::Error&) {
        return false; // mount_entry reports the bad option with the mount's index
    }
}

unsigned long root_propagation(const Spec& spec) {
    // runc's default: the host's mounts still reach the container, nothing flows back.
    const unsigned long requested = propagation_flags(spec.linux.rootfs_propagation);
    // An unbindable "/" could not be bound onto itself: it becomes unbindable after the pivot.
    if (requested == 0 || (requested & MS_UNBINDABLE))
        return MS_SLAVE | MS_REC;
    return requested;
}

struct TableDeleter {
    void operator()(libmnt_table* table) const noexcept { libmount().unref_table(table); }
};
struct IterDeleter {
    void operator()(libmnt_iter* iter) const noexcept { libmount().free_iter(iter); }
};

// pivot_root and MS_MOVE refuse a new root whose parent mount is shared (it would propagate the
// pivot). A shared rootfsPropagation, or a non-recursive one over a shared mount holding the
// rootfs, leaves it so: make just that mount private.
void make_parent_mount_private(const std::string& rootfs) {
    struct statx st {};
    if (statx(AT_FDCWD, rootfs.c_str(), 0, STATX_MNT_ID, &st) < 0)
        raind::throw_errno("statx " + rootfs);
    std::unique_ptr<libmnt_table, TableDeleter> table(libmount().new_table_from_file("/proc/self/mountinfo"));
    std::unique_ptr<libmnt_iter, IterDeleter> iter(libmount().new_iter(MNT_ITER_FORWARD));
    if (!table || !iter)
        throw raind::Error("read /proc/self/mountinfo: failed");
    libmnt_fs* fs = nullptr;
    while (libmount().table_next_fs(table.get(), iter.get(), &fs) == 0) {
        if (static_cast<uint64_t>(libmount().fs_get_id(fs)) != st.stx_mnt_id)
            continue;
        const char* fields = libmount().fs_get_optional_fields(fs);
        if (!fields || std::string(fields).find("shared:") == std::string::npos)
            return;
        const char* target = libmount().fs_get_target(fs);
        if (mount(nullptr, target, nullptr, MS_PRIVATE, nullptr) < 0)
            raind::throw_errno(std::string("make the mount ") + target + " (holding " + rootfs + ") private");
        return;
    }
}

void pivot_into(const std::string& rootfs, bool no_pivot) {
    raind::UniqueFd new_root(open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!new_root || fchdir(new_root.get()) < 0)
        raind::throw_errno("enter the rootfs " + rootfs);
    if (no_pivot) {
        // --no-pivot (runc's answer for a rootfs on ramfs/initramfs, where pivot_root is
        // refused): move the rootfs mount over "/" and chroot into it. The host's mounts stay
        // reachable below it, which is why pivot_root is the default.
        if (mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
            raind::throw_errno("move the rootfs " + rootfs + " onto / (--no-pivot)");
        if (chroot(".") < 0)
            raind::throw_errno("chroot into " + rootfs);
    } else {
        // pivot_root(".", ".") stacks the old root on top of the new one, so it needs no
        // directory in the image; unmounting "." then drops the old root.
        raind::UniqueFd old_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!old_root)
            raind::throw_errno("open the old root");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
            raind::throw_errno("pivot_root into " + rootfs);
        // The unmount below must not propagate to the host. A path would name the new root
        // here (cwd is below the stacked old root), turning the container's own shared mounts
        // private; the fd names the old root alone.
        set_propagation(old_root.get(), MS_SLAVE | MS_REC, "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
            raind::throw_errno("unmount the old root");
    }
    if (chdir("/") < 0)
        raind::throw_errno("chdir /");
}

void apply_readonly_paths(const Spec& spec, int root_fd) {
    for (const auto& path : spec.linux.readonly_paths) {
        const std::string what = "make " + path + " read-only (linux.readonlyPaths)";
        auto target = open_in_root(root_fd, path, O_PATH);
        if (!target)
            continue; // the spec allows listing paths an image lacks
        // A bind of itself, read-only all the way down; its other flags come along unchanged.
        auto tree = clone_tree(target.get(), "", true, what);
        set_mount_attributes(tree.get(), MOUNT_ATTR_RDONLY, 0, true, what);
        attach_tree(tree.get(), target.get(), what);
    }
}

void apply_masked_paths(const Spec& spec, int root_fd) {
    for (const auto& path : spec.linux.masked_paths) {
        const std::string what = "mask " + path + " (linux.maskedPaths)";
        auto target = open_in_root(root_fd, path, O_PATH);
        if (!target)
            continue;
        struct stat st {};
        if (fstat(target.get(), &st) < 0)
            raind::throw_errno(what);
        if (S_ISDIR(st.st_mode)) {
            auto empty = empty_readonly_tmpfs(what);
            attach_tree(empty.get(), target.get(), what);
        } else {
            auto null = clone_tree(AT_FDCWD, "/dev/null", false, what + ": bind /dev/null");
            attach_tree(null.get(), target.get(), what);
        }
    }
}

} // namespace

void validate_rootfs(const Spec& spec) {
    for (size_t i = 0; i < spec.mounts.size(); ++i)
        check_mount(spec.mounts[i], i);
    check_path_list(spec.linux.masked_paths, "linux.maskedPaths");
    check_path_list(spec.linux.readonly_paths, "linux.readonlyPaths");
    if (!spec.linux.rootfs_propagation.empty() && propagation_flags(spec.linux.rootfs_propagation) == 0)
        throw raind::Error("config.json: linux.rootfsPropagation \"" + spec.linux.rootfs_propagation +
                           "\": unknown (use private, rprivate, slave, rslave, shared, rshared, unbindable or runbindable)");
    check_devices(spec);
    validate_sysctls(spec);
}

void prepare_rootfs(const Spec& spec, const std::string& rootfs, const RootfsOptions& options) {
    const unsigned long propagation = root_propagation(spec);
    if (mount(nullptr, "/", nullptr, propagation, nullptr) < 0)
        raind::throw_errno("set the propagation of / (rootfsPropagation \"" + spec.linux.rootfs_propagation + "\")");
    make_parent_mount_private(rootfs);
    // pivot_root wants the new root to be a mount point.
    if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        raind::throw_errno("bind-mount the rootfs " + rootfs + " onto itself");

    raind::UniqueFd root(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        raind::throw_errno("open the rootfs " + rootfs);
    const MountTarget target{root.get(), rootfs, options.in_user_namespace, spec.has_namespace("cgroup")};
    bool readonly_dev = false;
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        Mount mount = spec.mounts[i];
        // A read-only /dev is mounted writable and made read-only once its nodes exist.
        if (clean_absolute_path(mount.destination) == "/dev" && needs_dev_setup(spec) &&
            is_readonly(mount)) {
            mount.options.push_back("rw");
            readonly_dev = true;
        }
        mount_entry(target, mount, i);
    }
    setup_dev(root.get(), spec, options);
    if (readonly_dev) {
        auto dev = open_in_root(root.get(), "/dev", O_PATH);
        if (!dev)
            throw raind::Error("/dev vanished from " + rootfs);
        set_mount_attributes(dev.get(), MOUNT_ATTR_RDONLY, 0, false, "make /dev read-only (in " + rootfs + ")");
    }
}

void finish_rootfs(const Spec& spec, const std::string& rootfs, const RootfsOptions& options) {
    pivot_into(rootfs, options.no_pivot);
    if (!spec.linux.rootfs_propagation.empty() &&
        mount(nullptr, "/", nullptr, propagation_flags(spec.linux.rootfs_propagation), nullptr) < 0)
        raind::throw_errno("set the propagation of the container's / to " + spec.linux.rootfs_propagation);

    apply_sysctls(spec);
    raind::UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        raind::throw_errno("open the container's /");
    apply_readonly_paths(spec, root.get());
    apply_masked_paths(spec, root.get());
    if (spec.root.readonly)
        set_mount_attributes(root.get(), MOUNT_ATTR_RDONLY, 0, false, "make the container's / read-only (root.readonly)");
}

} // namespace droplet
