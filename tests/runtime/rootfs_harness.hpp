// Runs rootfs code the way droplet's init does: in a child with its own mount, pid, uts, net, ipc
// and cgroup namespaces (and optionally a user namespace), reporting what it saw over a pipe.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace droplet::test {

// What the child reports: key -> value lines. "error" holds an exception's message.
class Facts {
public:
    explicit Facts(int fd) : fd_(fd) {}
    void set(const std::string& key, const std::string& value);

private:
    int fd_;
};

struct IsolationOptions {
    bool user_namespace = false;
    // Mounted (tmpfs nosuid,nodev,noexec) in the child before the user namespace exists, so the
    // kernel locks those flags for the container: the userns bind tests use it.
    std::string locked_mount;
    bool cgroup_namespace = true;
    bool network_namespace = true;
};

struct ChildResult {
    int status = -1; // exit status of the namespace child (0: body returned)
    std::map<std::string, std::string> facts;
};

ChildResult run_isolated(const IsolationOptions& options, const std::function<void(Facts&)>& body);

// A throwaway directory holding a busybox rootfs at <dir>/rootfs; removed by the destructor.
class TempRootfs {
public:
    TempRootfs();
    ~TempRootfs();
    TempRootfs(const TempRootfs&) = delete;
    TempRootfs& operator=(const TempRootfs&) = delete;

    const std::string& dir() const { return dir_; }
    std::string rootfs() const { return dir_ + "/rootfs"; }

private:
    std::string dir_;
};

// Observations made from inside, as short strings a test can compare.
std::string fs_type(const std::string& path);          // "tmpfs", "proc", "sysfs"… or "error:<errno>"
std::string mount_flags(const std::string& path);      // "ro,nosuid,nodev,noexec" subset, "" for none
std::string device_node(const std::string& path);      // "c 1:3 0666 0:0"
std::string read_text(const std::string& path, size_t limit = 1 << 20); // content or "error:<message>"
std::string write_result(const std::string& path);     // "ok" or strerror of open/write
std::string link_target(const std::string& path);
std::string mountinfo_line(const std::string& mount_point); // this process's mountinfo line for it

// Lines of the host's (this process's) mountinfo that mention `needle`.
std::string host_mounts_mentioning(const std::string& needle);

} // namespace droplet::test
