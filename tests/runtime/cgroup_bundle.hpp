// A busybox bundle and a droplet to run it, for the cgroup tests (root on the host, and
// inside the systemd sandbox). Header-only: both test executables include it.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../env/process.hpp" // the test helpers, not runtime/process.hpp

namespace droplet::test {

namespace fs = std::filesystem;

// A bundle whose process is `args`, in a fresh temporary directory removed on destruction.
class CgroupBundle {
public:
    explicit CgroupBundle(std::vector<std::string> args) {
        char tmpl[] = "/tmp/droplet-cgroup-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        fs::create_directories(dir_ + "/rootfs/bin");
        for (const char* d : {"proc", "sys", "dev", "tmp", "etc"})
            fs::create_directories(dir_ + "/rootfs/" + d);
        fs::copy_file("/bin/busybox", dir_ + "/rootfs/bin/busybox");
        for (const char* tool : {"sh", "sleep", "cat", "mkdir", "echo", "head", "wc", "ls", "true"})
            fs::create_symlink("busybox", dir_ + "/rootfs/bin/" + tool);
        config_ = {
            {"ociVersion", "1.2.0"},
            {"process", {{"terminal", false}, {"user", {{"uid", 0}, {"gid", 0}}}, {"args", args},
                         {"env", {"PATH=/bin"}}, {"cwd", "/"}}},
            {"root", {{"path", "rootfs"}}},
            {"hostname", "cgroup-test"},
            {"mounts", nlohmann::json::array({
                {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "mode=755"}}},
                {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup2"}, {"source", "cgroup"},
                 {"options", {"nosuid", "noexec", "nodev", "rw"}}},
            })},
            {"linux", {{"namespaces", nlohmann::json::array({{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}},
                                                             {{"type", "uts"}}, {{"type", "cgroup"}}})},
                       {"resources", {{"devices", nlohmann::json::array({{{"allow", false}, {"access", "rwm"}}})}}}}},
        };
    }
    ~CgroupBundle() {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    CgroupBundle(const CgroupBundle&) = delete;
    CgroupBundle& operator=(const CgroupBundle&) = delete;

    nlohmann::json& config() { return config_; }
    const std::string& dir() const { return dir_; }
    void write() const { std::ofstream(dir_ + "/config.json") << config_.dump(); }

private:
    std::string dir_;
    nlohmann::json config_;
};

struct Result {
    int status = -1; // exit status, or -1 if killed
    std::string out, err;
    std::string text() const { return "exit " + std::to_string(status) + "\nstdout: " + out + "\nstderr: " + err; }
};

inline std::string read_all(const std::string& path);

// Runs droplet. Detached containers inherit droplet's stdio, so a pipe to them would never
// reach EOF: the output goes to files beside the bundle instead, read once droplet exits.
inline Result droplet_cli(const std::string& droplet, const std::vector<std::string>& args) {
    char tmpl[] = "/tmp/droplet-cgroup-out-XXXXXX";
    std::string out = ::mkdtemp(tmpl);
    std::vector<std::string> argv{"/bin/sh", "-c", "f=$1; shift; exec \"$@\" </dev/null >\"$f/out\" 2>\"$f/err\"",
                                  "sh", out, droplet};
    argv.insert(argv.end(), args.begin(), args.end());
    raind::test::Output o = raind::test::run(argv);
    Result r{WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1, read_all(out + "/out"), read_all(out + "/err")};
    std::error_code ignored;
    fs::remove_all(out, ignored);
    return r;
}

inline std::string read_all(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace droplet::test
