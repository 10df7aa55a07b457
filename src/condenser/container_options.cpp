#include "container_options.hpp"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "container_seccomp.hpp"
#include "container_spec.hpp"
#include "restart_policy.hpp"

namespace condenser {
namespace {

using nlohmann::json;
using Variant = sdbus::Variant;

const std::set<std::string> known_capabilities = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

template <typename T>
T value_of(const std::string& key, const Variant& value, const char* type) {
    if (!value.containsValueOfType<T>())
        throw InvalidContainerArgument("option \"" + key + "\" must be of D-Bus type " + type + ", not " +
                                       value.peekValueType());
    return value.get<T>();
}

void require_absolute(const std::string& path, const std::string& what) {
    if (path.empty() || path[0] != '/')
        throw InvalidContainerArgument(what + " \"" + path + "\" is not an absolute path");
}

TmpfsMount parse_tmpfs(const std::string& spec) {
    auto colon = spec.find(':');
    TmpfsMount mount{spec.substr(0, colon), {}};
    require_absolute(mount.destination, "tmpfs mount point");
    if (colon != std::string::npos) {
        std::string rest = spec.substr(colon + 1);
        for (size_t start = 0; start <= rest.size();) {
            size_t comma = rest.find(',', start);
            std::string option = rest.substr(start, comma - start);
            bool known = option.rfind("size=", 0) == 0 || option.rfind("mode=", 0) == 0 ||
                         option == "ro" || option == "rw" || option == "exec" || option == "noexec" ||
                         option == "nosuid" || option == "nodev" || option == "suid" || option == "dev";
            if (!known)
                throw InvalidContainerArgument("tmpfs option \"" + option + "\" in \"" + spec +
                                               "\" is not one of size=, mode=, ro, rw, exec, noexec, nosuid, nodev");
            mount.options.push_back(option);
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    }
    return mount;
}

using Setter = std::function<void(ContainerOptions&, const std::string&, const Variant&)>;

const std::map<std::string, Setter>& setters() {
    static const std::map<std::string, Setter> table = {
        {"name", [](auto& o, auto& k, auto& v) { o.name = value_of<std::string>(k, v, "s"); }},
        {"env", [](auto& o, auto& k, auto& v) { o.env = value_of<std::vector<std::string>>(k, v, "as"); }},
        {"workdir", [](auto& o, auto& k, auto& v) { o.workdir = value_of<std::string>(k, v, "s"); }},
        {"user", [](auto& o, auto& k, auto& v) { o.user = value_of<std::string>(k, v, "s"); }},
        {"hostname", [](auto& o, auto& k, auto& v) { o.hostname = value_of<std::string>(k, v, "s"); }},
        {"entrypoint", [](auto& o, auto& k, auto& v) { o.entrypoint = value_of<std::vector<std::string>>(k, v, "as"); }},
        {"tty", [](auto& o, auto& k, auto& v) { o.tty = value_of<bool>(k, v, "b"); }},
        {"interactive", [](auto& o, auto& k, auto& v) { o.interactive = value_of<bool>(k, v, "b"); }},
        {"stdin", [](auto& o, auto& k, auto& v) { o.interactive = value_of<bool>(k, v, "b"); }},
        {"auto_remove", [](auto& o, auto& k, auto& v) { o.auto_remove = value_of<bool>(k, v, "b"); }},
        {"read_only", [](auto& o, auto& k, auto& v) { o.read_only = value_of<bool>(k, v, "b"); }},
        {"labels", [](auto& o, auto& k, auto& v) { o.labels = value_of<std::map<std::string, std::string>>(k, v, "a{ss}"); }},
        {"restart", [](auto& o, auto& k, auto& v) { o.restart = value_of<std::string>(k, v, "s"); }},
        {"network", [](auto& o, auto& k, auto& v) { o.network = value_of<std::string>(k, v, "s"); }},
        {"memory", [](auto& o, auto& k, auto& v) { o.memory = value_of<uint64_t>(k, v, "t"); }},
        {"cpus", [](auto& o, auto& k, auto& v) { o.cpus = value_of<double>(k, v, "d"); }},
        {"pids_limit", [](auto& o, auto& k, auto& v) { o.pids_limit = value_of<int64_t>(k, v, "x"); }},
        {"cap_add", [](auto& o, auto& k, auto& v) { o.cap_add = value_of<std::vector<std::string>>(k, v, "as"); }},
        {"cap_drop", [](auto& o, auto& k, auto& v) { o.cap_drop = value_of<std::vector<std::string>>(k, v, "as"); }},
        {"volumes",
         [](auto& o, auto& k, auto& v) {
             for (const auto& spec : value_of<std::vector<std::string>>(k, v, "as"))
                 o.volumes.push_back(parse_volume(spec));
         }},
        {"tmpfs",
         [](auto& o, auto& k, auto& v) {
             for (const auto& spec : value_of<std::vector<std::string>>(k, v, "as"))
                 o.tmpfs.push_back(parse_tmpfs(spec));
         }},
        {"security_opt",
         [](auto& o, auto& k, auto& v) {
             for (const auto& opt : value_of<std::vector<std::string>>(k, v, "as")) {
                 if (opt == "no-new-privileges" || opt == "no-new-privileges:true" || opt == "no-new-privileges=true")
                     o.no_new_privileges = true;
                 else if (opt == "seccomp=unconfined" || opt == "seccomp:unconfined")
                     o.seccomp = false;
                 else
                     throw InvalidContainerArgument("security option \"" + opt +
                                                    "\" is not supported yet (supported: no-new-privileges, "
                                                    "seccomp=unconfined)");
             }
         }},
    };
    return table;
}

bool valid_name(const std::string& name) {
    // Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*
    if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0])))
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

} // namespace

BindVolume parse_volume(const std::string& spec) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon - start));
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    if (parts.size() < 2 || parts.size() > 3)
        throw InvalidContainerArgument("volume \"" + spec + "\" is not host-path:container-path[:ro|rw]");
    BindVolume volume{parts[0], parts[1], false};
    if (parts.size() == 3) {
        if (parts[2] != "ro" && parts[2] != "rw")
            throw InvalidContainerArgument("volume \"" + spec + "\": mode \"" + parts[2] + "\" is not ro or rw");
        volume.read_only = parts[2] == "ro";
    }
    if (volume.source.empty() || volume.source[0] != '/')
        throw InvalidContainerArgument("volume \"" + spec + "\": host path \"" + volume.source +
                                       "\" is not absolute (named volumes are not supported yet)");
    require_absolute(volume.destination, "volume \"" + spec + "\": container path");
    std::error_code ec;
    if (!std::filesystem::exists(volume.source, ec))
        throw InvalidContainerArgument("volume \"" + spec + "\": host path " + volume.source + " does not exist");
    return volume;
}

std::string normalize_capability(const std::string& name) {
    std::string upper;
    for (char c : name)
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "ALL")
        return upper;
    if (upper.rfind("CAP_", 0) != 0)
        upper = "CAP_" + upper;
    if (known_capabilities.count(upper) == 0)
        throw InvalidContainerArgument("unknown capability \"" + name + "\"");
    return upper;
}

ContainerOptions parse_container_options(const std::map<std::string, sdbus::Variant>& options) {
    ContainerOptions parsed;
    for (const auto& [key, value] : options) {
        auto setter = setters().find(key);
        if (setter == setters().end())
            throw InvalidContainerArgument("unknown or unsupported container option \"" + key + "\"");
        setter->second(parsed, key, value);
    }
    if (!parsed.name.empty())
        check_container_name(parsed.name);
    if (parsed.network != "none" && parsed.network != "host")
        throw InvalidContainerArgument("network \"" + parsed.network + "\" is not supported yet (use none or host)");
    try {
        shim::parse_restart_policy(parsed.restart);
    } catch (const raind::Error& e) {
        throw InvalidContainerArgument(e.what());
    }
    if (parsed.restart != "no" && parsed.auto_remove)
        throw InvalidContainerArgument("restart policy \"" + parsed.restart + "\" conflicts with auto_remove");
    if (parsed.cpus && (*parsed.cpus <= 0 || *parsed.cpus > 4096))
        throw InvalidContainerArgument("cpus " + std::to_string(*parsed.cpus) + " is not in (0, 4096]");
    if (parsed.memory && *parsed.memory < 6 * 1024 * 1024)
        throw InvalidContainerArgument("memory limit " + std::to_string(*parsed.memory) +
                                       " bytes is below the minimum of 6 MiB");
    if (parsed.pids_limit && *parsed.pids_limit == 0)
        throw InvalidContainerArgument("pids_limit 0 would allow no process (use -1 for unlimited)");
    for (auto* list : {&parsed.cap_add, &parsed.cap_drop})
        for (auto& cap : *list)
            cap = normalize_capability(cap);
    for (const auto& entry : parsed.env)
        if (entry.find('=') == std::string::npos || entry[0] == '=')
            throw InvalidContainerArgument("environment entry \"" + entry + "\" is not KEY=value");
    if (parsed.workdir)
        require_absolute(*parsed.workdir, "working directory");
    return parsed;
}

raind::images::ImageConfig apply_to_image(raind::images::ImageConfig image, const ContainerOptions& options) {
    if (options.entrypoint) {
        image.entrypoint = *options.entrypoint;
        image.cmd.clear();
    }
    if (options.workdir)
        image.working_dir = *options.workdir;
    if (options.user)
        image.user = *options.user;
    return image;
}

void apply_to_spec(json& spec, const ContainerOptions& options) {
    json& process = spec["process"];
    json& linux_section = spec["linux"];
    if (options.tty) {
        process["terminal"] = true;
        // Programs only draw for a terminal they know, as with Docker.
        bool has_term = false;
        for (const auto& entry : process["env"])
            has_term = has_term || entry.get<std::string>().rfind("TERM=", 0) == 0;
        if (!has_term)
            process["env"].push_back("TERM=xterm");
    }
    if (options.hostname)
        spec["hostname"] = *options.hostname;
    if (options.network == "host") {
        json kept = json::array();
        for (const auto& ns : linux_section["namespaces"])
            if (ns.at("type") != "network")
                kept.push_back(ns);
        linux_section["namespaces"] = kept;
    }
    if (options.read_only)
        spec["root"]["readonly"] = true;
    if (options.no_new_privileges)
        process["noNewPrivileges"] = true;
    if (options.seccomp)
        linux_section["seccomp"] = default_seccomp_profile();
    json& resources = linux_section["resources"];
    if (options.memory)
        resources["memory"]["limit"] = static_cast<int64_t>(*options.memory);
    if (options.cpus) {
        constexpr int64_t period = 100000;
        resources["cpu"]["period"] = period;
        resources["cpu"]["quota"] = static_cast<int64_t>(*options.cpus * period);
    }
    if (options.pids_limit)
        resources["pids"]["limit"] = *options.pids_limit;
    if (resources.empty())
        linux_section.erase("resources");

    if (!options.cap_add.empty() || !options.cap_drop.empty()) {
        std::set<std::string> caps;
        for (const auto& cap : process["capabilities"]["bounding"])
            caps.insert(cap.get<std::string>());
        for (const auto& cap : options.cap_add) {
            if (cap == "ALL")
                caps.insert(known_capabilities.begin(), known_capabilities.end());
            else
                caps.insert(cap);
        }
        for (const auto& cap : options.cap_drop) {
            if (cap == "ALL")
                caps.clear();
            else
                caps.erase(cap);
        }
        json list(caps);
        for (const char* set : {"bounding", "effective", "permitted"})
            process["capabilities"][set] = list;
    }
    for (const auto& volume : options.volumes)
        spec["mounts"].push_back({{"destination", volume.destination},
                                  {"type", "bind"},
                                  {"source", volume.source},
                                  {"options", {"rbind", volume.read_only ? "ro" : "rw"}}});
    for (const auto& mount : options.tmpfs) {
        json opts = {"nosuid", "nodev", "noexec"};
        for (const auto& option : mount.options)
            opts.push_back(option);
        spec["mounts"].push_back(
            {{"destination", mount.destination}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", opts}});
    }
}

void check_container_name(const std::string& name) {
    if (!valid_name(name))
        throw InvalidContainerArgument("container name \"" + name +
                                       "\" is not valid: use letters, digits, '_', '.', '-', starting with a letter or digit");
}

int parse_signal(const std::string& text) {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        int number = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (error == std::errc() && end == text.data() + text.size() && number > 0 && number < NSIG)
            return number;
        throw InvalidContainerArgument("invalid signal \"" + text + "\"");
    }
    std::string name;
    for (char c : text)
        name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0)
        name.erase(0, 3);
    for (int number = 1; number < SIGRTMIN; ++number) {
        const char* abbrev = ::sigabbrev_np(number);
        if (abbrev && name == abbrev)
            return number;
    }
    throw InvalidContainerArgument("invalid signal \"" + text + "\"");
}

} // namespace condenser
