#include "devices.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"
#include "mount_api.hpp"
#include "mount_options.hpp"
#include "safe_path.hpp"

namespace droplet {

namespace {

Device default_device(const char* path, int64_t major, int64_t minor) {
    Device device;
    device.path = path;
    device.type = 'c';
    device.major = major;
    device.minor = minor;
    device.file_mode = 0666;
    device.uid = 0;
    device.gid = 0;
    return device;
}

mode_t device_type(const Device& device) {
    switch (device.type) {
    case 'b':
        return S_IFBLK;
    case 'p':
        return S_IFIFO;
    default:
        return S_IFCHR; // 'c' and 'u' (unbuffered character device)
    }
}

std::string dirname_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

void make_node(int root_fd, const Device& device, const std::string& path) {
    const std::string what = "create device " + path;
    auto parent = create_in_root(root_fd, dirname_of(path), CreateKind::directory);
    const std::string name = basename_of(path);
    // An image may ship its own /dev/null as a plain file: the spec's node replaces it.
    if (unlinkat(parent.get(), name.c_str(), 0) < 0 && errno != ENOENT)
        raind::throw_errno(what + ": remove the existing file");
    const mode_t mode = device.file_mode.value_or(0666) & 07777;
    const dev_t number = makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
    if (mknodat(parent.get(), name.c_str(), device_type(device) | mode, number) < 0)
        raind::throw_errno(what);
    if (fchownat(parent.get(), name.c_str(), device.uid.value_or(0), device.gid.value_or(0), AT_SYMLINK_NOFOLLOW) < 0)
        raind::throw_errno(what + ": chown");
    if (fchmodat(parent.get(), name.c_str(), mode, 0) < 0) // mknod applied the umask
        raind::throw_errno(what + ": chmod");
}

void bind_node(int root_fd, const std::string& host_path, const std::string& path) {
    const std::string what = "bind-mount " + host_path + " on " + path;
    // An image's /dev/null -> /etc/passwd must not carry the bind over another file.
    auto parent = create_in_root(root_fd, dirname_of(path), CreateKind::directory);
    const std::string name = basename_of(path);
    struct stat st {};
    if (fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
        unlinkat(parent.get(), name.c_str(), 0) < 0)
        raind::throw_errno(what + ": remove the symlink in its place");
    auto target = create_in_root(root_fd, path, CreateKind::file);
    auto tree = clone_tree(AT_FDCWD, host_path, false, what);
    attach_tree(tree.get(), target.get(), what);
}

void make_symlink(int dev_fd, const char* target, const char* name) {
    if (symlinkat(target, dev_fd, name) < 0 && errno != EEXIST)
        raind::throw_errno(std::string("symlink /dev/") + name + " -> " + target);
}

bool mounts_destination(const Spec& spec, const std::string& destination) {
    for (const auto& mount : spec.mounts)
        if (clean_absolute_path(mount.destination).value_or("") == destination)
            return true;
    return false;
}

} // namespace

std::vector<Device> container_devices(const Spec& spec) {
    std::vector<Device> devices{
        default_device("/dev/null", 1, 3),    default_device("/dev/zero", 1, 5),
        default_device("/dev/full", 1, 7),    default_device("/dev/random", 1, 8),
        default_device("/dev/urandom", 1, 9), default_device("/dev/tty", 5, 0),
    };
    for (const auto& device : spec.linux.devices) {
        const std::string path = clean_absolute_path(device.path).value_or(device.path);
        bool replaced = false;
        for (auto& existing : devices) {
            if (existing.path == path) {
                existing = device;
                existing.path = path;
                replaced = true;
            }
        }
        if (!replaced) {
            devices.push_back(device);
            devices.back().path = path;
        }
    }
    return devices;
}

bool needs_dev_setup(const Spec& spec) {
    for (const auto& mount : spec.mounts) {
        if (clean_absolute_path(mount.destination).value_or("") != "/dev")
            continue;
        try {
            if (mount.type == "bind" || parse_mount_options(mount.options).is_bind())
                return false;
        } catch (const raind::Error&) {
            // validate_rootfs reports bad options; here they only mean "not a bind"
        }
    }
    return true;
}

void setup_dev(int root_fd, const Spec& spec, const RootfsOptions& options) {
    if (!needs_dev_setup(spec))
        return;
    for (const auto& device : container_devices(spec)) {
        if (options.in_user_namespace)
            bind_node(root_fd, device.path, device.path);
        else
            make_node(root_fd, device, device.path);
    }

    auto dev = create_in_root(root_fd, "/dev", CreateKind::directory);
    make_symlink(dev.get(), "/proc/self/fd", "fd");
    make_symlink(dev.get(), "/proc/self/fd/0", "stdin");
    make_symlink(dev.get(), "/proc/self/fd/1", "stdout");
    make_symlink(dev.get(), "/proc/self/fd/2", "stderr");
    if (access("/proc/kcore", F_OK) == 0)
        make_symlink(dev.get(), "/proc/kcore", "core");

    if (mounts_destination(spec, "/dev/pts")) {
        // Each container has its own devpts instance; /dev/ptmx must open that one's ptmx.
        if (unlinkat(dev.get(), "ptmx", 0) < 0 && errno != ENOENT)
            raind::throw_errno("remove /dev/ptmx");
        make_symlink(dev.get(), "pts/ptmx", "ptmx");
    }

    if (!options.console_path.empty())
        bind_node(root_fd, options.console_path, "/dev/console");
}

} // namespace droplet
