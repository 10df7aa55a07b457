#include "container_processes.hpp"

#include <algorithm>
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

} // namespace condenser
