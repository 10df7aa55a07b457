// Drives the real droplet binary (path in $DROPLET) on busybox bundles in a temp directory,
// and checks what is left behind.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace droplet::test {

struct Output {
    int status = -1; // exit status, 128+N for a signal
    std::string out, err;
};

struct SpawnOptions {
    std::string stdin_text;
    std::string stdout_file;          // when set, stdout (and stderr) go to this file, not a pipe
    std::vector<int> keep_fds;        // fds (already open in the test) passed as-is
    std::vector<std::string> env;     // extra KEY=VALUE
    bool listen_pid_is_child = false; // LISTEN_PID=<droplet's pid>, set in the child

    static SpawnOptions to_file(const std::string& path) {
        SpawnOptions o;
        o.stdout_file = path;
        return o;
    }
};

std::string droplet_path();

// A busybox root filesystem shared by all tests of the process (read-only in configs).
const std::string& busybox_rootfs();

class DropletTest {
public:
    DropletTest();
    ~DropletTest();
    DropletTest(const DropletTest&) = delete;
    DropletTest& operator=(const DropletTest&) = delete;

    const std::string& dir() const { return dir_; }
    std::string bundle() const { return dir_ + "/bundle"; }
    std::string state_root() const { return dir_ + "/state"; }

    // `droplet spec` output adjusted for tests: busybox rootfs, no terminal, a tmpfs /tmp.
    nlohmann::json& config() { return config_; }
    void set_args(const std::vector<std::string>& args);
    void write_config() const;

    // droplet --root <state> <args…> (the config is written first).
    Output droplet(const std::vector<std::string>& args, const SpawnOptions& options = {});
    // `run` of the current config; returns what the container printed.
    Output run(const std::string& id = "c");

    nlohmann::json state(const std::string& id);
    // Polls `state` until the status matches (or ~5 s pass); returns the last status seen.
    std::string wait_status(const std::string& id, const std::string& status);
    // Waits until `path` contains `needle` (~5 s).
    bool wait_for_text(const std::string& path, const std::string& needle);

    // Nothing of container `id` remains: no state dir, no process with `pid`, no mount
    // mentioning this test's directory.
    void expect_nothing_left(const std::string& id, pid_t pid = 0);

private:
    std::string dir_;
    nlohmann::json config_;
};

Output spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});
std::string read_file_text(const std::string& path);
void write_file_text(const std::string& path, const std::string& text);
void reap_zombies();
bool process_exists(pid_t pid);
std::string trim(const std::string& s);
std::string host_mounts_mentioning_path(const std::string& needle);

} // namespace droplet::test
