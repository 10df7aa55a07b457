// Processes tests start (integration tests inside a sandbox, the harness test on the host):
// killed and reaped, plus what /proc says about them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace raind::test {

struct Output;

// Who a child runs as. Built from the sandbox's own passwd and group files.
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};

Identity root_identity();
// The user's uid, primary gid and supplementary groups; throws when the user is unknown.
Identity identity_of(const std::string& user);
gid_t group_id(const std::string& group);

// A child process owned by the test: SIGKILLed and reaped when it goes out of scope.
class Child {
public:
    // Starts argv[0] (an absolute path) as `who`; throws with the errno of a failed exec.
    static Child spawn(const std::vector<std::string>& argv, const Identity& who = root_identity());
    Child(Child&& other) noexcept;
    Child& operator=(Child&&) = delete;
    Child(const Child&) = delete;
    ~Child();

    pid_t pid() const noexcept { return pid_; }
    // Waits for the child to exit and returns its wait status.
    int wait();
    // Sends a signal (no-op once reaped).
    void signal(int sig) const noexcept;

private:
    friend struct Output run(const std::vector<std::string>& argv, const std::string& input);
    explicit Child(pid_t pid) noexcept : pid_(pid) {}
    pid_t pid_ = -1;
};

struct Output {
    pid_t pid = -1;
    int status = 0; // wait status
    std::string out;
    std::string err;
};

// Runs argv to completion with `input` (small: it is written before reading) on its
// stdin, and collects its stdout and stderr.
Output run(const std::vector<std::string>& argv, const std::string& input = {});

// True when PID names no running process: gone, or a zombie waiting to be reaped.
bool has_exited(pid_t pid);
// Field 22 of /proc/PID/stat, which polkit wants to tell a reused PID apart.
std::uint64_t start_time(pid_t pid);
// The unified-hierarchy cgroup of PID ("0::" line of /proc/PID/cgroup).
std::string cgroup_of(pid_t pid);

} // namespace raind::test
