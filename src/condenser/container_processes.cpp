#include "container_processes.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <fstream>
#include <sstream>

#include "state_files.hpp"

namespace condenser {

std::string cgroup_dir_of(pid_t pid) {
    std::string cgroups = shim::read_text_file("/proc/" + std::to_string(pid) + "/cgroup");
    auto line = cgroups.find("0::");
    if (line == std::string::npos)
        return {};
    std::string path = cgroups.substr(line + 3, cgroups.find('\n', line) - line - 3);
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        std::string dir = root + path;
        if (!shim::read_text_file(dir + "/cgroup.procs").empty() || !shim::read_text_file(dir + "/cgroup.freeze").empty())
            return dir;
    }
    return {};
}

bool cgroup_frozen(pid_t pid) {
    auto dir = cgroup_dir_of(pid);
    if (dir.empty())
        return false;
    auto freeze = shim::read_text_file(dir + "/cgroup.freeze");
    return !freeze.empty() && freeze[0] == '1';
}

std::vector<ProcessInfo> processes_in_cgroup_of(pid_t init) {
    std::vector<ProcessInfo> processes;
    auto dir = cgroup_dir_of(init);
    if (dir.empty())
        return processes;
    std::istringstream pids(shim::read_text_file(dir + "/cgroup.procs"));
    for (uint32_t pid; pids >> pid;) {
        ProcessInfo info{pid, 0, 0, {}};
        std::istringstream status(shim::read_text_file("/proc/" + std::to_string(pid) + "/status"));
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("PPid:", 0) == 0)
                info.ppid = static_cast<uint32_t>(std::stoul(line.substr(5)));
            else if (line.rfind("Uid:", 0) == 0)
                info.uid = static_cast<uint32_t>(std::stoul(line.substr(4)));
        }
        std::string cmdline = shim::read_text_file("/proc/" + std::to_string(pid) + "/cmdline");
        if (cmdline.empty())
            continue; // gone meanwhile, or a kernel thread
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        while (!cmdline.empty() && cmdline.back() == ' ')
            cmdline.pop_back();
        info.command = cmdline;
        processes.push_back(std::move(info));
    }
    std::sort(processes.begin(), processes.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
    return processes;
}

std::map<std::string, uint64_t> cgroup_stats_of(pid_t init) {
    std::map<std::string, uint64_t> stats;
    auto dir = cgroup_dir_of(init);
    if (dir.empty())
        return stats;
    auto number = [](const std::string& text) -> std::optional<uint64_t> {
        if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
            return std::nullopt;
        return std::stoull(text);
    };
    std::istringstream cpu(shim::read_text_file(dir + "/cpu.stat"));
    for (std::string key, value; cpu >> key >> value;)
        if (key == "usage_usec")
            stats["cpu_usec"] = std::stoull(value);
    if (auto memory = number(shim::read_text_file(dir + "/memory.current")))
        stats["memory_bytes"] = *memory;
    if (auto max = number(shim::read_text_file(dir + "/memory.max")))
        stats["memory_max"] = *max;
    if (auto pids = number(shim::read_text_file(dir + "/pids.current"))) {
        stats["pids"] = *pids;
    } else {
        std::istringstream procs(shim::read_text_file(dir + "/cgroup.procs"));
        uint64_t count = 0;
        for (std::string pid; procs >> pid;)
            ++count;
        stats["pids"] = count;
    }
    return stats;
}

} // namespace condenser
