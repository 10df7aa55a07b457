// The container's cgroup: one driver interface, three implementations (crun's model):
//   systemd  — a transient scope with Delegate=yes, resources as unit properties (cgroup_systemd.cpp)
//   cgroupfs — cgroup v2 directories and files written by droplet itself (cgroup_fs.cpp)
//   disabled — no cgroup2 hierarchy at all: the container runs in droplet's own cgroup, limits are
//              refused and pause/update/events report that cgroups are unavailable
// chosen once by make_cgroup_manager(). Later verbs reopen the driver from what state.json recorded.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "cgroup_resources.hpp"

namespace droplet {

// What state.json keeps so later verbs find the cgroup again.
struct CgroupRecord {
    std::string driver; // "systemd", "cgroupfs" or "" (disabled)
    std::string path;   // relative to the unified hierarchy's root, e.g. /raind.slice/raind-x.scope
    std::string unit;   // systemd only: raind-x.scope
};

struct CgroupConfig {
    std::string id;
    std::string cgroups_path;  // linux.cgroupsPath
    std::string resources_json;
    bool systemd = false;      // --systemd-cgroup
    std::vector<DeviceRule> device_nodes; // linux.devices, always allowed
};

// `slice:prefix:name` → slice, unit (prefix-name.scope).
struct SystemdCgroupsPath {
    std::string slice;
    std::string unit;
};
SystemdCgroupsPath parse_systemd_cgroups_path(const std::string& cgroups_path, const std::string& id);

class CgroupManager {
public:
    explicit CgroupManager(CgroupRecord record) : record_(std::move(record)) {}
    virtual ~CgroupManager() = default;
    CgroupManager(const CgroupManager&) = delete;
    CgroupManager& operator=(const CgroupManager&) = delete;

    // Before the container's first process exists: a directory fd for clone3's
    // CLONE_INTO_CGROUP, or -1 when the driver can only move a running pid.
    virtual int precreate() { return -1; }
    // Puts `pid` (and so everything it forks later) in the container's cgroup and applies
    // the resources. `already_inside` when clone3 placed it there.
    virtual void enter(pid_t pid, bool already_inside) = 0;
    virtual void update(const CgroupResources& resources) = 0;
    // Removes the cgroup (the scope for systemd); the processes must be gone. Never throws.
    virtual void destroy() noexcept = 0;

    const CgroupRecord& record() const { return record_; }
    bool enabled() const { return !record_.driver.empty(); }

    // Shared by both real drivers: they all end in a cgroup v2 directory.
    std::string directory() const;                 // absolute path, throws when disabled
    void freeze(bool frozen);                      // cgroup.freeze, waits for cgroup.events
    bool frozen() const;
    std::vector<pid_t> pids() const;               // every process, sub-cgroups included
    void kill_all(int signal, pid_t except = 0);   // cgroup.kill for SIGKILL (no exception)
    nlohmann::json stats() const;                  // runc's `events --stats` data

protected:
    CgroupRecord record_;
};

// For `create`: validates cgroupsPath and resources (errors name the field) before anything exists.
std::unique_ptr<CgroupManager> make_cgroup_manager(const CgroupConfig& config);
// For the verbs after create.
std::unique_ptr<CgroupManager> open_cgroup_manager(const CgroupRecord& record);

// Undoes a cgroup made during `create` unless the container was created.
class CgroupCreation {
public:
    explicit CgroupCreation(CgroupManager& manager) : manager_(manager) {}
    CgroupCreation(const CgroupCreation&) = delete;
    CgroupCreation& operator=(const CgroupCreation&) = delete;
    ~CgroupCreation() {
        if (!done_)
            manager_.destroy();
    }
    void release() { done_ = true; }

private:
    CgroupManager& manager_;
    bool done_ = false;
};

// fork(), or clone3 with CLONE_INTO_CGROUP when cgroup_fd >= 0 and the kernel has it.
// `placed` says whether the child started inside the cgroup.
pid_t fork_into_cgroup(int cgroup_fd, bool& placed);

// A directory fd of the container's cgroup for `exec` (empty when disabled or gone).
int open_cgroup_directory(const CgroupRecord& record);

// The cgroup2 mount point: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid); "" if none.
std::string unified_mount_point();
// The caller's cgroup in the unified hierarchy (the 0:: line of /proc/self/cgroup).
std::string own_cgroup();

} // namespace droplet
