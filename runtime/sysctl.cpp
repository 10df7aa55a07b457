#include "sysctl.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <string_view>

#include "error.hpp"
#include "fd.hpp"

namespace droplet {

namespace {

// The IPC-namespaced kernel.* keys (ipc_namespace in the kernel), as runc lists them.
constexpr std::array ipc_keys{
    std::string_view{"kernel.msgmax"}, std::string_view{"kernel.msgmnb"}, std::string_view{"kernel.msgmni"},
    std::string_view{"kernel.sem"},    std::string_view{"kernel.shmall"}, std::string_view{"kernel.shmmax"},
    std::string_view{"kernel.shmmni"}, std::string_view{"kernel.shm_rmid_forced"},
};

std::string dotted(const std::vector<std::string>& components) {
    std::string key;
    for (const auto& part : components)
        key += (key.empty() ? "" : ".") + part;
    return key;
}

// The namespace that isolates `key`, or "" when none does.
std::string namespace_of(const std::string& key) {
    for (auto ipc_key : ipc_keys)
        if (key == ipc_key)
            return "ipc";
    if (key.rfind("fs.mqueue.", 0) == 0)
        return "ipc";
    if (key.rfind("net.", 0) == 0)
        return "network";
    if (key == "kernel.hostname" || key == "kernel.domainname")
        return "uts";
    return {};
}

std::string quoted(const std::string& key) { return "linux.sysctl \"" + key + "\""; }

} // namespace

std::vector<std::string> sysctl_components(const std::string& key) {
    const char separator = key.find('/') != std::string::npos ? '/' : '.';
    std::vector<std::string> components;
    std::string::size_type start = 0;
    while (start <= key.size()) {
        auto end = key.find(separator, start);
        if (end == std::string::npos)
            end = key.size();
        std::string part = key.substr(start, end - start);
        if (part.empty() || part == "." || part == "..")
            throw raind::Error(quoted(key) + ": not a sysctl name (empty, \".\" or \"..\" component)");
        components.push_back(std::move(part));
        start = end + 1;
    }
    return components;
}

void validate_sysctls(const Spec& spec) {
    for (const auto& [key, value] : spec.linux.sysctl) {
        std::vector<std::string> components;
        try {
            components = sysctl_components(key);
        } catch (const raind::Error& e) {
            throw raind::Error(std::string("config.json: ") + e.what());
        }
        const std::string ns = namespace_of(dotted(components));
        if (ns.empty())
            throw raind::Error("config.json: " + quoted(key) +
                               ": not isolated by any namespace, refusing to change the host's value");
        if (!spec.has_namespace(ns))
            throw raind::Error("config.json: " + quoted(key) + ": needs the container's own " + ns +
                               " namespace (linux.namespaces), refusing to change the host's value");
    }
}

void apply_sysctls(const Spec& spec) {
    if (spec.linux.sysctl.empty())
        return;
    raind::UniqueFd proc_sys(open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!proc_sys)
        raind::throw_errno("open /proc/sys (is /proc mounted in the container?)");
    for (const auto& [key, value] : spec.linux.sysctl) {
        std::string relative;
        for (const auto& part : sysctl_components(key))
            relative += (relative.empty() ? "" : "/") + part;
        open_how how{};
        how.flags = O_WRONLY | O_TRUNC | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        raind::UniqueFd file(static_cast<int>(syscall(SYS_openat2, proc_sys.get(), relative.c_str(), &how, sizeof how)));
        if (!file)
            raind::throw_errno(quoted(key) + ": open /proc/sys/" + relative);
        if (write(file.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
            raind::throw_errno(quoted(key) + ": write \"" + value + "\" to /proc/sys/" + relative);
    }
}

} // namespace droplet
