// What every driver shares: finding the unified hierarchy, the driver factory, and the
// operations on a cgroup v2 directory (freeze, processes, kill, statistics).
#include "cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cgroup_drivers.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "file_util.hpp"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

namespace droplet {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// "key value" lines (cgroup.events, cpu.stat, memory.stat) → the value of `key`, or -1.
int64_t keyed_value(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string k;
    int64_t v = 0;
    while (in >> k >> v)
        if (k == key)
            return v;
    return -1;
}

void collect_pids(const std::string& dir, std::vector<pid_t>& pids) {
    std::istringstream procs(read_text(dir + "/cgroup.procs"));
    for (pid_t pid; procs >> pid;)
        pids.push_back(pid);
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return;
    while (dirent* e = ::readdir(d))
        if (e->d_type == DT_DIR && e->d_name[0] != '.')
            collect_pids(dir + "/" + e->d_name, pids);
    ::closedir(d);
}

// The mountinfo line of the cgroup2 mount: field 5 is the mount point, and the filesystem
// type follows the " - " separator.
std::string find_cgroup2_mount() {
    std::ifstream in("/proc/self/mountinfo");
    std::string hybrid;
    for (std::string line; std::getline(in, line);) {
        size_t sep = line.find(" - ");
        if (sep == std::string::npos || line.compare(sep + 3, 8, "cgroup2 ") != 0)
            continue;
        std::istringstream fields(line.substr(0, sep));
        std::string id, parent, dev, root, mount_point;
        fields >> id >> parent >> dev >> root >> mount_point;
        if (mount_point == "/sys/fs/cgroup")
            return mount_point;
        if (hybrid.empty())
            hybrid = mount_point;
    }
    return hybrid;
}

} // namespace

std::string unified_mount_point() {
    static const std::string mount_point = find_cgroup2_mount();
    return mount_point;
}

std::string own_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("0::", 0) == 0)
            return line.substr(3);
    return "/";
}

SystemdCgroupsPath parse_systemd_cgroups_path(const std::string& path, const std::string& id) {
    SystemdCgroupsPath out;
    std::string prefix = "droplet", name = id;
    if (path.empty()) {
        out.slice = "system.slice";
    } else {
        size_t first = path.find(':');
        size_t second = first == std::string::npos ? std::string::npos : path.find(':', first + 1);
        if (second == std::string::npos || path.find(':', second + 1) != std::string::npos)
            throw raind::Error("linux.cgroupsPath \"" + path +
                               "\": with --systemd-cgroup it must have the form slice:prefix:name "
                               "(e.g. machine.slice:libpod:<id>)");
        out.slice = path.substr(0, first);
        prefix = path.substr(first + 1, second - first - 1);
        name = path.substr(second + 1);
        if (out.slice.empty())
            out.slice = "system.slice";
    }
    auto check = [&](const std::string& part, const char* what) {
        for (char c : part)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr(":_.-\\@", c)))
                throw raind::Error("linux.cgroupsPath \"" + path + "\": the " + what + " \"" + part +
                                   "\" holds a character a systemd unit name cannot have");
    };
    check(out.slice, "slice");
    check(prefix, "prefix");
    check(name, "name");
    if (out.slice.size() < 7 || out.slice.compare(out.slice.size() - 6, 6, ".slice") != 0)
        throw raind::Error("linux.cgroupsPath \"" + path + "\": the slice \"" + out.slice +
                           "\" must be a unit name ending in .slice");
    if (name.empty())
        throw raind::Error("linux.cgroupsPath \"" + path + "\": the name (after the second ':') is empty");
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".slice") == 0)
        throw raind::Error("linux.cgroupsPath \"" + path +
                           "\": a slice as the container's unit is not supported; use slice:prefix:name");
    out.unit = (prefix.empty() ? name : prefix + "-" + name) + ".scope";
    return out;
}

std::string CgroupManager::directory() const {
    if (!enabled())
        throw raind::Error("cgroups are not available on this host (no cgroup2 hierarchy is mounted)");
    return unified_mount_point() + record_.path;
}

bool CgroupManager::frozen() const { return keyed_value(read_text(directory() + "/cgroup.events"), "frozen") == 1; }

void CgroupManager::freeze(bool frozen) {
    std::string dir = directory();
    std::string file = dir + "/cgroup.freeze";
    raind::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        raind::throw_errno("open " + file + " (the kernel needs 5.2 or later to freeze cgroup v2)");
    if (!write_all(fd.get(), frozen ? "1" : "0", 1))
        raind::throw_errno("write " + file);
    // The write only asks; the cgroup is frozen once every task has stopped.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (this->frozen() != frozen) {
        if (std::chrono::steady_clock::now() > deadline)
            throw raind::Error(std::string(dir) + ": the cgroup did not become " + (frozen ? "frozen" : "thawed") +
                               " within 10 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

std::vector<pid_t> CgroupManager::pids() const {
    std::vector<pid_t> pids;
    if (enabled())
        collect_pids(directory(), pids);
    return pids;
}

void CgroupManager::kill_all(int signal, pid_t except) {
    std::string dir = directory();
    if (signal == SIGKILL) {
        raind::UniqueFd fd(::open((dir + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC));
        if (fd) {
            if (!write_all(fd.get(), "1", 1))
                raind::throw_errno("write " + dir + "/cgroup.kill");
            return;
        }
    }
    // Frozen, no process can fork a child that misses the signal.
    bool was_frozen = frozen();
    if (!was_frozen)
        freeze(true);
    for (pid_t pid : pids())
        if (pid != except)
            ::kill(pid, signal);
    if (!was_frozen)
        freeze(false);
}

nlohmann::json CgroupManager::stats() const {
    std::string dir = directory();
    nlohmann::json data = nlohmann::json::object();
    std::string cpu = read_text(dir + "/cpu.stat");
    if (!cpu.empty()) {
        auto ns = [&](const char* key) {
            int64_t v = keyed_value(cpu, key);
            return v < 0 ? 0 : v * 1000;
        };
        data["cpu"] = {{"usage", {{"total", ns("usage_usec")}, {"kernel", ns("system_usec")}, {"user", ns("user_usec")}}},
                       {"throttling",
                        {{"periods", std::max<int64_t>(0, keyed_value(cpu, "nr_periods"))},
                         {"throttledPeriods", std::max<int64_t>(0, keyed_value(cpu, "nr_throttled"))},
                         {"throttledTime", ns("throttled_usec")}}}};
    }
    auto number = [&](const char* file) -> std::optional<uint64_t> {
        std::string text = read_text(dir + "/" + file);
        if (text.empty())
            return std::nullopt;
        if (text.rfind("max", 0) == 0)
            return UINT64_MAX;
        return std::strtoull(text.c_str(), nullptr, 10);
    };
    if (auto usage = number("memory.current")) {
        nlohmann::json memory = {{"usage", {{"usage", *usage}, {"limit", number("memory.max").value_or(0)},
                                            {"max", number("memory.peak").value_or(0)}}}};
        if (auto swap = number("memory.swap.current"))
            memory["swap"] = {{"usage", *swap}, {"limit", number("memory.swap.max").value_or(0)}};
        nlohmann::json raw = nlohmann::json::object();
        std::istringstream stat(read_text(dir + "/memory.stat"));
        std::string key;
        for (uint64_t v; stat >> key >> v;)
            raw[key] = v;
        memory["raw"] = raw;
        data["memory"] = memory;
    }
    if (auto current = number("pids.current"))
        data["pids"] = {{"current", *current}, {"limit", number("pids.max").value_or(0)}};
    else
        data["pids"] = {{"current", pids().size()}};
    return data;
}

std::unique_ptr<CgroupManager> make_cgroup_manager(const CgroupConfig& config) {
    CgroupResources resources = parse_resources(config.resources_json);
    resources.devices = effective_device_rules(resources.devices, config.device_nodes);
    if (unified_mount_point().empty()) {
        if (config.systemd)
            throw raind::Error("--systemd-cgroup: this host has no cgroup v2 hierarchy; droplet supports cgroup v2 only");
        auto files = resource_files(resources);
        bool limited = std::any_of(files.begin(), files.end(), [](const CgroupFileWrite& f) { return !f.unlimited(); });
        if (limited)
            throw raind::Error("linux.resources: limits are set but this host has no cgroup v2 hierarchy "
                               "(droplet supports cgroup v2 only)");
        return make_disabled_cgroup();
    }
    if (config.systemd)
        return make_systemd_cgroup(parse_systemd_cgroups_path(config.cgroups_path, config.id), config.id, resources);
    return make_fs_cgroup(config.cgroups_path, config.id, resources);
}

std::unique_ptr<CgroupManager> open_cgroup_manager(const CgroupRecord& record) {
    if (record.driver == "systemd")
        return open_systemd_cgroup(record);
    if (record.driver == "cgroupfs")
        return open_fs_cgroup(record);
    return make_disabled_cgroup();
}

int open_cgroup_directory(const CgroupRecord& record) {
    if (record.driver.empty() || unified_mount_point().empty())
        return -1;
    return ::open((unified_mount_point() + record.path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

pid_t fork_into_cgroup(int cgroup_fd, bool& placed) {
    placed = false;
    if (cgroup_fd >= 0) {
        clone_args args{};
        args.flags = CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = static_cast<uint64_t>(cgroup_fd);
        // Like fork(): droplet is single-threaded here, so the child may run ordinary code.
        long pid = ::syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) {
            placed = pid > 0;
            return static_cast<pid_t>(pid);
        }
        // Older kernels (ENOSYS, E2BIG) and cgroups that refuse it fall back to moving the pid.
    }
    return ::fork();
}

} // namespace droplet
