#include "spec.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <set>

#include "error.hpp"
#include "fd.hpp"

namespace droplet {
namespace {

using nlohmann::json;

// Every error names the JSON path at fault, so a person can find it in config.json.
[[noreturn]] void fail(const std::string& where, const std::string& why) {
    throw raind::Error("config.json: " + where + ": " + why);
}

const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return nullptr;
    return &*it;
}

std::string get_string(const json& v, const std::string& where) {
    if (!v.is_string())
        fail(where, "must be a string");
    return v.get<std::string>();
}

std::string opt_string(const json& object, const char* key, const std::string& where) {
    const json* v = member(object, key);
    return v ? get_string(*v, where + "." + key) : std::string();
}

bool opt_bool(const json& object, const char* key, const std::string& where) {
    const json* v = member(object, key);
    if (!v)
        return false;
    if (!v->is_boolean())
        fail(where + "." + key, "must be true or false");
    return v->get<bool>();
}

uint64_t get_unsigned(const json& v, const std::string& where, uint64_t max = UINT64_MAX) {
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
        fail(where, "must be a non-negative integer");
    uint64_t n = v.get<uint64_t>();
    if (n > max)
        fail(where, "must be at most " + std::to_string(max));
    return n;
}

int64_t get_signed(const json& v, const std::string& where) {
    if (!v.is_number_integer())
        fail(where, "must be an integer");
    return v.get<int64_t>();
}

const json& require_object(const json& v, const std::string& where) {
    if (!v.is_object())
        fail(where, "must be an object");
    return v;
}

const json& require_array(const json& v, const std::string& where) {
    if (!v.is_array())
        fail(where, "must be an array");
    return v;
}

std::vector<std::string> string_array(const json& object, const char* key, const std::string& where) {
    std::vector<std::string> out;
    const json* v = member(object, key);
    if (!v)
        return out;
    std::string path = where + "." + key;
    require_array(*v, path);
    for (size_t i = 0; i < v->size(); ++i)
        out.push_back(get_string((*v)[i], path + "[" + std::to_string(i) + "]"));
    return out;
}

const std::set<std::string>& known_rlimits() {
    static const std::set<std::string> names{
        "RLIMIT_AS",     "RLIMIT_CORE",    "RLIMIT_CPU",        "RLIMIT_DATA",   "RLIMIT_FSIZE",
        "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE",   "RLIMIT_NICE",   "RLIMIT_NOFILE",
        "RLIMIT_NPROC",  "RLIMIT_RSS",     "RLIMIT_RTPRIO",     "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
        "RLIMIT_STACK"};
    return names;
}

const std::set<std::string>& known_namespaces() {
    static const std::set<std::string> names{"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
    return names;
}

Capabilities parse_capabilities(const json& v, const std::string& where) {
    require_object(v, where);
    Capabilities caps;
    caps.bounding = string_array(v, "bounding", where);
    caps.effective = string_array(v, "effective", where);
    caps.inheritable = string_array(v, "inheritable", where);
    caps.permitted = string_array(v, "permitted", where);
    caps.ambient = string_array(v, "ambient", where);
    return caps;
}

Process parse_process_object(const json& v, const std::string& where) {
    require_object(v, where);
    Process p;
    p.terminal = opt_bool(v, "terminal", where);
    if (const json* size = member(v, "consoleSize")) {
        require_object(*size, where + ".consoleSize");
        ConsoleSize cs;
        if (const json* h = member(*size, "height"))
            cs.height = static_cast<unsigned>(get_unsigned(*h, where + ".consoleSize.height", 65535));
        if (const json* w = member(*size, "width"))
            cs.width = static_cast<unsigned>(get_unsigned(*w, where + ".consoleSize.width", 65535));
        p.console_size = cs;
    }
    if (const json* user = member(v, "user")) {
        std::string uw = where + ".user";
        require_object(*user, uw);
        if (const json* uid = member(*user, "uid"))
            p.user.uid = static_cast<uid_t>(get_unsigned(*uid, uw + ".uid", UINT32_MAX - 1));
        if (const json* gid = member(*user, "gid"))
            p.user.gid = static_cast<gid_t>(get_unsigned(*gid, uw + ".gid", UINT32_MAX - 1));
        if (const json* umask = member(*user, "umask"))
            p.user.umask = static_cast<mode_t>(get_unsigned(*umask, uw + ".umask", 0777));
        if (const json* groups = member(*user, "additionalGids")) {
            require_array(*groups, uw + ".additionalGids");
            for (size_t i = 0; i < groups->size(); ++i)
                p.user.additional_gids.push_back(static_cast<gid_t>(
                    get_unsigned((*groups)[i], uw + ".additionalGids[" + std::to_string(i) + "]", UINT32_MAX - 1)));
        }
        if (member(*user, "username"))
            fail(uw + ".username", "is for Windows containers; use uid and gid");
    }
    const json* args = member(v, "args");
    if (!args)
        fail(where + ".args", "is required");
    p.args = string_array(v, "args", where);
    if (p.args.empty())
        fail(where + ".args", "must be a non-empty array of strings");
    p.env = string_array(v, "env", where);
    for (size_t i = 0; i < p.env.size(); ++i)
        if (p.env[i].find('=') == std::string::npos || p.env[i].front() == '=')
            fail(where + ".env[" + std::to_string(i) + "]", "\"" + p.env[i] + "\" is not of the form KEY=VALUE");
    const json* cwd = member(v, "cwd");
    if (!cwd)
        fail(where + ".cwd", "is required");
    p.cwd = get_string(*cwd, where + ".cwd");
    if (p.cwd.empty() || p.cwd.front() != '/')
        fail(where + ".cwd", "\"" + p.cwd + "\" must be an absolute path");
    if (const json* caps = member(v, "capabilities"))
        p.capabilities = parse_capabilities(*caps, where + ".capabilities");
    if (const json* rlimits = member(v, "rlimits")) {
        require_array(*rlimits, where + ".rlimits");
        std::set<std::string> seen;
        for (size_t i = 0; i < rlimits->size(); ++i) {
            std::string rw = where + ".rlimits[" + std::to_string(i) + "]";
            const json& r = require_object((*rlimits)[i], rw);
            Rlimit limit;
            const json* type = member(r, "type");
            if (!type)
                fail(rw + ".type", "is required");
            limit.type = get_string(*type, rw + ".type");
            if (!known_rlimits().count(limit.type))
                fail(rw + ".type", "unknown rlimit \"" + limit.type + "\"");
            if (!seen.insert(limit.type).second)
                fail(rw + ".type", limit.type + " is given twice");
            const json* soft = member(r, "soft");
            const json* hard = member(r, "hard");
            if (!soft || !hard)
                fail(rw, "soft and hard are required");
            limit.soft = get_unsigned(*soft, rw + ".soft");
            limit.hard = get_unsigned(*hard, rw + ".hard");
            if (limit.soft > limit.hard)
                fail(rw, limit.type + " soft limit " + std::to_string(limit.soft) + " is above its hard limit " +
                             std::to_string(limit.hard));
            p.rlimits.push_back(limit);
        }
    }
    p.no_new_privileges = opt_bool(v, "noNewPrivileges", where);
    p.apparmor_profile = opt_string(v, "apparmorProfile", where);
    p.selinux_label = opt_string(v, "selinuxLabel", where);
    if (const json* oom = member(v, "oomScoreAdj")) {
        int64_t n = get_signed(*oom, where + ".oomScoreAdj");
        if (n < -1000 || n > 1000)
            fail(where + ".oomScoreAdj", std::to_string(n) + " is outside -1000..1000");
        p.oom_score_adj = static_cast<int>(n);
    }
    return p;
}

std::vector<IdMapping> parse_id_mappings(const json& linux, const char* key) {
    std::vector<IdMapping> out;
    const json* v = member(linux, key);
    if (!v)
        return out;
    std::string where = std::string("linux.") + key;
    require_array(*v, where);
    for (size_t i = 0; i < v->size(); ++i) {
        std::string mw = where + "[" + std::to_string(i) + "]";
        const json& m = require_object((*v)[i], mw);
        IdMapping map;
        const json* c = member(m, "containerID");
        const json* h = member(m, "hostID");
        const json* s = member(m, "size");
        if (!c || !h || !s)
            fail(mw, "containerID, hostID and size are required");
        map.container_id = static_cast<uint32_t>(get_unsigned(*c, mw + ".containerID", UINT32_MAX));
        map.host_id = static_cast<uint32_t>(get_unsigned(*h, mw + ".hostID", UINT32_MAX));
        map.size = static_cast<uint32_t>(get_unsigned(*s, mw + ".size", UINT32_MAX));
        if (map.size == 0)
            fail(mw + ".size", "must be greater than zero");
        out.push_back(map);
    }
    return out;
}

Hook parse_hook(const json& v, const std::string& where) {
    require_object(v, where);
    Hook h;
    const json* path = member(v, "path");
    if (!path)
        fail(where + ".path", "is required");
    h.path = get_string(*path, where + ".path");
    if (h.path.empty() || h.path.front() != '/')
        fail(where + ".path", "\"" + h.path + "\" must be an absolute path");
    h.args = string_array(v, "args", where);
    h.env = string_array(v, "env", where);
    if (const json* t = member(v, "timeout")) {
        int64_t n = get_signed(*t, where + ".timeout");
        if (n <= 0)
            fail(where + ".timeout", "must be greater than zero");
        h.timeout = static_cast<int>(std::min<int64_t>(n, INT32_MAX));
    }
    return h;
}

std::vector<Hook> parse_hook_list(const json& hooks, const char* key) {
    std::vector<Hook> out;
    const json* v = member(hooks, key);
    if (!v)
        return out;
    std::string where = std::string("hooks.") + key;
    require_array(*v, where);
    for (size_t i = 0; i < v->size(); ++i)
        out.push_back(parse_hook((*v)[i], where + "[" + std::to_string(i) + "]"));
    return out;
}

void parse_linux(const json& v, Spec& spec) {
    require_object(v, "linux");
    Linux& l = spec.linux;
    if (const json* nss = member(v, "namespaces")) {
        require_array(*nss, "linux.namespaces");
        std::set<std::string> seen;
        for (size_t i = 0; i < nss->size(); ++i) {
            std::string nw = "linux.namespaces[" + std::to_string(i) + "]";
            const json& n = require_object((*nss)[i], nw);
            Namespace ns;
            const json* type = member(n, "type");
            if (!type)
                fail(nw + ".type", "is required");
            ns.type = get_string(*type, nw + ".type");
            if (!known_namespaces().count(ns.type))
                fail(nw + ".type", "unknown namespace type \"" + ns.type + "\"");
            if (!seen.insert(ns.type).second)
                fail(nw + ".type", "namespace \"" + ns.type + "\" is given twice");
            ns.path = opt_string(n, "path", nw);
            if (!ns.path.empty() && ns.path.front() != '/')
                fail(nw + ".path", "\"" + ns.path + "\" must be an absolute path");
            l.namespaces.push_back(ns);
        }
    }
    l.uid_mappings = parse_id_mappings(v, "uidMappings");
    l.gid_mappings = parse_id_mappings(v, "gidMappings");
    if (const json* devs = member(v, "devices")) {
        require_array(*devs, "linux.devices");
        for (size_t i = 0; i < devs->size(); ++i) {
            std::string dw = "linux.devices[" + std::to_string(i) + "]";
            const json& d = require_object((*devs)[i], dw);
            Device dev;
            dev.path = opt_string(d, "path", dw);
            if (dev.path.empty() || dev.path.front() != '/')
                fail(dw + ".path", "must be an absolute path");
            std::string type = opt_string(d, "type", dw);
            if (type.size() != 1 || std::string("cbup").find(type[0]) == std::string::npos)
                fail(dw + ".type", "must be one of c, b, u, p");
            dev.type = type[0];
            if (const json* m = member(d, "major"))
                dev.major = get_signed(*m, dw + ".major");
            else if (dev.type != 'p')
                fail(dw + ".major", "is required for a " + type + " device");
            if (const json* m = member(d, "minor"))
                dev.minor = get_signed(*m, dw + ".minor");
            else if (dev.type != 'p')
                fail(dw + ".minor", "is required for a " + type + " device");
            if (const json* m = member(d, "fileMode"))
                dev.file_mode = static_cast<mode_t>(get_unsigned(*m, dw + ".fileMode", 07777));
            if (const json* m = member(d, "uid"))
                dev.uid = static_cast<uid_t>(get_unsigned(*m, dw + ".uid", UINT32_MAX - 1));
            if (const json* m = member(d, "gid"))
                dev.gid = static_cast<gid_t>(get_unsigned(*m, dw + ".gid", UINT32_MAX - 1));
            l.devices.push_back(dev);
        }
    }
    l.cgroups_path = opt_string(v, "cgroupsPath", "linux");
    if (const json* r = member(v, "resources"))
        l.resources_json = require_object(*r, "linux.resources").dump();
    l.rootfs_propagation = opt_string(v, "rootfsPropagation", "linux");
    static const std::set<std::string> propagations{"",      "shared",  "slave",  "private", "unbindable",
                                                    "rshared", "rslave", "rprivate", "runbindable"};
    if (!propagations.count(l.rootfs_propagation))
        fail("linux.rootfsPropagation", "unknown propagation \"" + l.rootfs_propagation + "\"");
    l.masked_paths = string_array(v, "maskedPaths", "linux");
    l.readonly_paths = string_array(v, "readonlyPaths", "linux");
    l.mount_label = opt_string(v, "mountLabel", "linux");
    if (const json* s = member(v, "sysctl")) {
        require_object(*s, "linux.sysctl");
        for (auto& [k, val] : s->items())
            l.sysctl[k] = get_string(val, "linux.sysctl." + k);
    }
    if (const json* s = member(v, "seccomp"))
        l.seccomp_json = require_object(*s, "linux.seccomp").dump();
    if (const json* t = member(v, "timeOffsets")) {
        require_object(*t, "linux.timeOffsets");
        for (auto& [clock, off] : t->items()) {
            std::string tw = "linux.timeOffsets." + clock;
            if (clock != "monotonic" && clock != "boottime")
                fail(tw, "only monotonic and boottime clocks can be offset");
            require_object(off, tw);
            TimeOffset o;
            if (const json* s = member(off, "secs"))
                o.secs = get_signed(*s, tw + ".secs");
            if (const json* n = member(off, "nanosecs"))
                o.nanosecs = static_cast<uint32_t>(get_unsigned(*n, tw + ".nanosecs", 999999999));
            l.time_offsets[clock] = o;
        }
    }
    if (const json* p = member(v, "personality")) {
        require_object(*p, "linux.personality");
        l.personality_domain = opt_string(*p, "domain", "linux.personality");
    }
}

// 1.0.x, 1.1.x, 1.2.x with an optional pre-release suffix ("1.0.2-dev").
bool supported_version(const std::string& v) {
    if (v.size() < 5 || v[0] != '1' || v[1] != '.' || v[2] < '0' || v[2] > '2' || v[3] != '.')
        return false;
    size_t i = 4;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
        ++i;
    if (i == 4)
        return false;
    if (i == v.size())
        return true;
    return v[i] == '-' && i + 1 < v.size();
}

void check_consistency(const Spec& spec) {
    const Namespace* user = spec.find_namespace("user");
    if ((!spec.linux.uid_mappings.empty() || !spec.linux.gid_mappings.empty()) && !user)
        fail("linux.uidMappings", "id mappings need a user namespace in linux.namespaces");
    if (user && user->path.empty() && (spec.linux.uid_mappings.empty() || spec.linux.gid_mappings.empty()))
        fail("linux.uidMappings", "a new user namespace needs both uidMappings and gidMappings");
    if (user && !user->path.empty() && (!spec.linux.uid_mappings.empty() || !spec.linux.gid_mappings.empty()))
        fail("linux.uidMappings", "mappings cannot be given when joining the user namespace " + user->path);
    const Namespace* uts = spec.find_namespace("uts");
    if (!spec.hostname.empty() && !uts)
        fail("hostname", "setting the hostname needs a uts namespace in linux.namespaces");
    if (!spec.domainname.empty() && !uts)
        fail("domainname", "setting the domainname needs a uts namespace in linux.namespaces");
    if (!spec.linux.time_offsets.empty()) {
        const Namespace* time = spec.find_namespace("time");
        if (!time || !time->path.empty())
            fail("linux.timeOffsets", "time offsets need a new time namespace in linux.namespaces");
    }
}

} // namespace

bool Spec::has_namespace(const std::string& type) const { return find_namespace(type) != nullptr; }

const Namespace* Spec::find_namespace(const std::string& type) const {
    for (const Namespace& ns : linux.namespaces)
        if (ns.type == type)
            return &ns;
    return nullptr;
}

Spec parse_spec(const std::string& json_text) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::parse_error& e) {
        throw raind::Error(std::string("config.json: malformed JSON: ") + e.what());
    }
    if (!doc.is_object())
        throw raind::Error("config.json: the document must be a JSON object");
    Spec spec;
    const json* version = member(doc, "ociVersion");
    if (!version)
        fail("ociVersion", "is required");
    spec.oci_version = get_string(*version, "ociVersion");
    if (!supported_version(spec.oci_version))
        fail("ociVersion", "\"" + spec.oci_version + "\" is not supported (droplet implements 1.0.0 to 1.2.x)");
    const json* root = member(doc, "root");
    if (!root)
        fail("root", "is required on Linux");
    require_object(*root, "root");
    const json* root_path = member(*root, "path");
    if (!root_path)
        fail("root.path", "is required");
    spec.root.path = get_string(*root_path, "root.path");
    if (spec.root.path.empty())
        fail("root.path", "must not be empty");
    spec.root.readonly = opt_bool(*root, "readonly", "root");
    if (const json* p = member(doc, "process")) {
        spec.process = parse_process_object(*p, "process");
        spec.has_process = true;
    }
    spec.hostname = opt_string(doc, "hostname", "");
    spec.domainname = opt_string(doc, "domainname", "");
    if (const json* mounts = member(doc, "mounts")) {
        require_array(*mounts, "mounts");
        for (size_t i = 0; i < mounts->size(); ++i) {
            std::string mw = "mounts[" + std::to_string(i) + "]";
            const json& m = require_object((*mounts)[i], mw);
            Mount mount;
            const json* dest = member(m, "destination");
            if (!dest)
                fail(mw + ".destination", "is required");
            mount.destination = get_string(*dest, mw + ".destination");
            mount.type = opt_string(m, "type", mw);
            mount.source = opt_string(m, "source", mw);
            mount.options = string_array(m, "options", mw);
            mount.has_id_mappings = member(m, "uidMappings") || member(m, "gidMappings");
            spec.mounts.push_back(std::move(mount));
        }
    }
    if (const json* hooks = member(doc, "hooks")) {
        require_object(*hooks, "hooks");
        spec.hooks.prestart = parse_hook_list(*hooks, "prestart");
        spec.hooks.create_runtime = parse_hook_list(*hooks, "createRuntime");
        spec.hooks.create_container = parse_hook_list(*hooks, "createContainer");
        spec.hooks.start_container = parse_hook_list(*hooks, "startContainer");
        spec.hooks.poststart = parse_hook_list(*hooks, "poststart");
        spec.hooks.poststop = parse_hook_list(*hooks, "poststop");
    }
    if (const json* a = member(doc, "annotations")) {
        require_object(*a, "annotations");
        for (auto& [k, val] : a->items())
            spec.annotations[k] = get_string(val, "annotations." + k);
    }
    if (const json* l = member(doc, "linux"))
        parse_linux(*l, spec);
    check_consistency(spec);
    return spec;
}

Spec load_spec(const std::string& bundle_dir) {
    std::string path = bundle_dir + "/config.json";
    raind::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        raind::throw_errno("open " + path);
    std::string text;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0)
            raind::throw_errno("read " + path);
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    return parse_spec(text);
}

Process parse_process(const std::string& json_text) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::parse_error& e) {
        throw raind::Error(std::string("process.json: malformed JSON: ") + e.what());
    }
    try {
        return parse_process_object(doc, "process");
    } catch (const raind::Error& e) {
        std::string msg = e.what();
        // The same checks as config.json, reported against the file the caller gave.
        if (msg.rfind("config.json: ", 0) == 0)
            msg = "process.json: " + msg.substr(13);
        throw raind::Error(msg);
    }
}

json default_spec(bool rootless) {
    json caps = json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
    json namespaces = json::array({{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}},
                                   {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "cgroup"}}});
    json mounts = json::array({
        {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/sys/fs/cgroup"},
         {"type", "cgroup"},
         {"source", "cgroup"},
         {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
    });
    json linux = {
        {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
        {"namespaces", namespaces},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
    };
    if (rootless) {
        // A rootless container maps the caller to root and cannot mount sysfs/cgroup or mknod.
        linux["namespaces"] = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                                           {{"type", "mount"}}, {{"type", "cgroup"}}, {{"type", "user"}}});
        linux["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}}});
        linux["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}}});
        linux.erase("resources");
        mounts[5] = {{"destination", "/sys"},
                     {"type", "none"},
                     {"source", "/sys"},
                     {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
        mounts.erase(6);
        mounts[2]["options"] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    }
    return {
        {"ociVersion", "1.0.2"}, // what runc writes; crun 1.8 refuses newer
        {"process",
         {{"terminal", true},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", {"sh"}},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities",
           {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
          {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "droplet"},
        {"mounts", mounts},
        {"linux", linux},
    };
}

} // namespace droplet
