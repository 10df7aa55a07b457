#include "cgroup_join.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "fd.hpp"
#include "file_util.hpp"

namespace droplet {
namespace {

// hierarchy key ("" for v2, else the sorted controller list such as "cpu,cpuacct") -> path
std::map<std::string, std::string> cgroups_of(const std::string& proc_file) {
    std::map<std::string, std::string> out;
    std::istringstream in(read_file(proc_file));
    for (std::string line; std::getline(in, line);) {
        size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos)
            continue;
        out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
    }
    return out;
}

struct CgroupMount {
    std::string root, mount_point;
};

std::set<std::string> split(const std::string& s) {
    std::set<std::string> parts;
    std::istringstream in(s);
    for (std::string p; std::getline(in, p, ',');)
        parts.insert(p);
    return parts;
}

// Where each hierarchy is mounted in our mount namespace.
std::map<std::string, CgroupMount> cgroup_mounts(const std::set<std::string>& wanted) {
    std::map<std::string, CgroupMount> found;
    std::istringstream in(read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(in, line);) {
        size_t dash = line.find(" - ");
        if (dash == std::string::npos)
            continue;
        std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
        std::string id, parent, devno, root, mount_point, fstype, source, super_options;
        head >> id >> parent >> devno >> root >> mount_point;
        tail >> fstype >> source >> super_options;
        if (fstype == "cgroup2") {
            if (!found.count(""))
                found[""] = {root, mount_point};
            continue;
        }
        if (fstype != "cgroup")
            continue;
        std::set<std::string> options = split(super_options);
        for (const std::string& key : wanted) {
            if (key.empty() || found.count(key))
                continue;
            bool all = true;
            for (const std::string& controller : split(key))
                all = all && options.count(controller);
            if (all)
                found[key] = {root, mount_point};
        }
    }
    return found;
}

} // namespace

void join_cgroups_of(pid_t pid) {
    auto theirs = cgroups_of("/proc/" + std::to_string(pid) + "/cgroup");
    auto ours = cgroups_of("/proc/self/cgroup");
    std::set<std::string> differ;
    for (const auto& [key, path] : theirs)
        if (ours.count(key) && ours[key] != path)
            differ.insert(key);
    if (differ.empty())
        return;
    auto mounts = cgroup_mounts(differ);
    for (const std::string& key : differ) {
        auto m = mounts.find(key);
        if (m == mounts.end())
            continue; // not mounted here: nothing we can join through
        const std::string& path = theirs[key];
        const CgroupMount& mount = m->second;
        if (path.compare(0, mount.root.size(), mount.root) != 0)
            continue; // outside what this mount shows
        std::string relative = mount.root == "/" ? path : path.substr(mount.root.size());
        std::string procs = mount.mount_point + relative + "/cgroup.procs";
        raind::UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || ::write(fd.get(), "0", 1) != 1)
            raind::throw_errno("join the container's cgroup: write to " + procs);
    }
}

} // namespace droplet
