#include "container_spec.hpp"

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "default_seccomp.hpp"

namespace condenser {
namespace {

using nlohmann::json;

// Docker's default capability set: enough for package managers and daemons that drop
// privileges, without the ones that reach the host (SYS_ADMIN, NET_ADMIN, SYS_MODULE, …).
const std::vector<std::string> default_capabilities = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",     "CAP_AUDIT_WRITE",
};

constexpr const char* default_path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_key(const std::string& entry) {
    auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
        throw InvalidContainerArgument("environment entry \"" + entry + "\" is not KEY=value");
    return entry.substr(0, equals);
}

std::optional<uint32_t> parse_id(const std::string& text) {
    uint32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

// Field `field` (0-based) of the line of /etc/passwd or /etc/group whose first field is `name`.
std::optional<uint32_t> lookup(const std::filesystem::path& file, const std::string& name, size_t field) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::stringstream stream(line);
        for (std::string part; std::getline(stream, part, ':');)
            fields.push_back(part);
        if (fields.size() > field && fields[0] == name)
            return parse_id(fields[field]);
    }
    return std::nullopt;
}

} // namespace

std::vector<std::string> container_args(const raind::images::ImageConfig& image, const std::vector<std::string>& command) {
    std::vector<std::string> args = image.entrypoint;
    const auto& tail = command.empty() ? image.cmd : command;
    args.insert(args.end(), tail.begin(), tail.end());
    if (args.empty())
        throw InvalidContainerArgument("no command given and the image has neither Entrypoint nor Cmd");
    return args;
}

std::vector<std::string> container_env(const std::vector<std::string>& image_env, const std::vector<std::string>& overrides) {
    std::vector<std::string> env;
    auto set = [&env](const std::string& entry) {
        auto key = env_key(entry);
        for (auto& existing : env)
            if (env_key(existing) == key)
                return void(existing = entry);
        env.push_back(entry);
    };
    for (const auto& entry : image_env)
        set(entry);
    for (const auto& entry : overrides)
        set(entry);
    bool has_path = false;
    for (const auto& entry : env)
        has_path = has_path || env_key(entry) == "PATH";
    if (!has_path)
        env.insert(env.begin(), default_path);
    return env;
}

UserIds resolve_user(const std::string& user, const std::filesystem::path& rootfs) {
    if (user.empty())
        return {};
    auto colon = user.find(':');
    std::string name = user.substr(0, colon);
    UserIds ids;
    if (auto number = parse_id(name)) {
        ids.uid = *number;
    } else {
        auto uid = lookup(rootfs / "etc/passwd", name, 2);
        if (!uid)
            throw InvalidContainerArgument("user \"" + name + "\" is not in the image's /etc/passwd");
        ids.uid = *uid;
        ids.gid = lookup(rootfs / "etc/passwd", name, 3).value_or(0);
    }
    if (colon != std::string::npos) {
        std::string group = user.substr(colon + 1);
        if (auto number = parse_id(group)) {
            ids.gid = *number;
        } else {
            auto found = lookup(rootfs / "etc/group", group, 2);
            if (!found)
                throw InvalidContainerArgument("group \"" + group + "\" is not in the image's /etc/group");
            ids.gid = *found;
        }
    }
    return ids;
}

json container_spec(const raind::images::ImageConfig& image, const ContainerRequest& request) {
    auto ids = resolve_user(image.user, request.rootfs);
    json capabilities = default_capabilities;
    // No rlimits: the container inherits the daemon's (its unit's LimitNOFILE), as Docker's
    // containers inherit containerd's; a fixed value fails where the hard limit is lower and
    // raising it needs CAP_SYS_RESOURCE.
    json process = {
        {"terminal", false},
        {"user", {{"uid", ids.uid}, {"gid", ids.gid}}},
        {"args", container_args(image, request.command)},
        {"env", container_env(image.env, request.env)},
        {"cwd", image.working_dir.empty() ? "/" : image.working_dir},
        {"capabilities",
         {{"bounding", capabilities}, {"effective", capabilities}, {"permitted", capabilities}}},
        {"noNewPrivileges", false},
    };
    json mounts = json::array({
        {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
        {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}},
    });
    json namespaces = json::array();
    // No network yet: a namespace of its own with only lo, as `docker run --network none`.
    for (const char* type : {"pid", "network", "ipc", "uts", "mount"})
        namespaces.push_back({{"type", type}});
    return {
        {"ociVersion", "1.0.2"},
        {"process", process},
        {"root", {{"path", "rootfs"}, {"readonly", false}}},
        {"hostname", request.id.substr(0, 12)},
        {"mounts", mounts},
        {"linux",
         {
             {"namespaces", namespaces},
             {"cgroupsPath", "raind.slice:raind:" + request.id},
             {"maskedPaths",
              {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
               "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}},
             {"readonlyPaths",
              {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
             {"seccomp", default_seccomp_profile(default_capabilities)},
         }},
    };
}

} // namespace condenser
