#include "droplet_harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace droplet::test {
namespace {

void remove_tree(const std::string& path) {
    // Only our own temp dirs; they never hold mounts (containers have private mount namespaces).
    std::string cmd = "rm -rf '" + path + "'";
    if (std::system(cmd.c_str()) != 0)
        std::fprintf(stderr, "could not remove %s\n", path.c_str());
}

std::string make_temp_dir(const char* prefix) {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

struct SharedRootfs {
    std::string dir;
    SharedRootfs() {
        // Containers the tests create are re-parented to us, so we can reap them like conmon.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        dir = make_temp_dir("droplet-rootfs");
        ::chmod(dir.c_str(), 0755); // user-namespace containers run as an unprivileged host uid
        std::string root = dir + "/rootfs";
        for (const char* d : {"", "/bin", "/proc", "/sys", "/dev", "/tmp", "/etc", "/hooks", "/root"})
            ::mkdir((root + d).c_str(), 0755);
        Output copy = spawn({"cp", "/bin/busybox", root + "/bin/busybox"});
        if (copy.status != 0)
            throw std::runtime_error("copy busybox: " + copy.err);
        Output list = spawn({"/bin/busybox", "--list"});
        std::istringstream applets(list.out);
        for (std::string name; std::getline(applets, name);)
            if (!name.empty() && name != "busybox")
                [[maybe_unused]] int r = ::symlink("busybox", (root + "/bin/" + name).c_str());
        write_file_text(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n");
        write_file_text(root + "/etc/group", "root:x:0:\ntty:x:5:\nuser:x:1000:\n");
    }
    ~SharedRootfs() { remove_tree(dir); }
};

} // namespace

std::string droplet_path() {
    const char* p = std::getenv("DROPLET");
    return p ? p : "droplet";
}

const std::string& busybox_rootfs() {
    static SharedRootfs shared;
    static std::string root = shared.dir + "/rootfs";
    return root;
}

std::string read_file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \n\r\t"), e = s.find_last_not_of(" \n\r\t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Output spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
        throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        if (!options.stdout_file.empty()) {
            int fd = ::open(options.stdout_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        } else {
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
        }
        for (int fd : options.keep_fds)
            ::fcntl(fd, F_SETFD, 0);
        for (const std::string& e : options.env)
            ::putenv(const_cast<char*>(e.c_str()));
        if (options.listen_pid_is_child)
            ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (!options.stdin_text.empty())
        [[maybe_unused]] ssize_t n = ::write(in[1], options.stdin_text.data(), options.stdin_text.size());
    ::close(in[1]);
    Output result;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_count = 2;
    while (open_count > 0) {
        // Like conmon, reap the container processes re-parented to us while droplet runs:
        // a pid namespace's init only finishes dying once its other processes are reaped.
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid > 0 && info.si_pid != pid)
            ::waitpid(info.si_pid, nullptr, 0);
        int ready = ::poll(fds, 2, 50);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
                continue;
            }
            (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

void reap_zombies() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

bool process_exists(pid_t pid) {
    reap_zombies();
    return pid > 0 && ::kill(pid, 0) == 0;
}

std::string host_mounts_mentioning_path(const std::string& needle) {
    std::istringstream in(read_file_text("/proc/self/mountinfo"));
    std::string found;
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos)
            found += line + "\n";
    return found;
}

DropletTest::DropletTest() {
    const std::string& rootfs = busybox_rootfs();
    dir_ = make_temp_dir("droplet-test");
    ::chmod(dir_.c_str(), 0755);
    ::mkdir(bundle().c_str(), 0755);
    Output spec = spawn({droplet_path(), "spec", "--bundle", bundle()});
    if (spec.status != 0) {
        // The destructor does not run for a constructor that throws.
        remove_tree(dir_);
        throw std::runtime_error("droplet spec failed (is $DROPLET set?): " + spec.err);
    }
    config_ = nlohmann::json::parse(read_file_text(bundle() + "/config.json"));
    config_["root"]["path"] = rootfs;
    config_["process"]["terminal"] = false;
    config_["mounts"].push_back({{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                                 {"options", {"nosuid", "nodev", "mode=1777"}}});
}

DropletTest::~DropletTest() {
    // Whatever a failed test left running is killed, so one failure does not leak into the next.
    Output list = droplet({"list", "--quiet"});
    std::istringstream ids(list.out);
    for (std::string id; std::getline(ids, id);)
        if (!id.empty())
            droplet({"delete", "--force", id});
    reap_zombies();
    remove_tree(dir_);
}

void DropletTest::set_args(const std::vector<std::string>& args) { config_["process"]["args"] = args; }

void DropletTest::write_config() const { write_file_text(bundle() + "/config.json", config_.dump(2)); }

Output DropletTest::droplet(const std::vector<std::string>& args, const SpawnOptions& options) {
    // Without a cgroupsPath a container's cgroup is /<id>, which every test process on the
    // machine (other build trees' too) would share for the same id: a container this test
    // creates gets one named after the test's directory, unless the test chose a path.
    auto verb = std::find_if(args.begin(), args.end(), [](const std::string& a) { return a == "create" || a == "run"; });
    bool systemd = std::find(args.begin(), args.end(), "--systemd-cgroup") != args.end();
    bool exec = !args.empty() && args.front() == "exec"; // its command may say "run"
    if (verb != args.end() && !systemd && !exec && !config_["linux"].contains("cgroupsPath")) {
        nlohmann::json written = config_;
        written["linux"]["cgroupsPath"] = "/" + dir_.substr(dir_.rfind('/') + 1) + "-" + args.back();
        write_file_text(bundle() + "/config.json", written.dump(2));
    } else {
        write_config();
    }
    std::vector<std::string> argv = {droplet_path(), "--root", state_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    Output o = spawn(argv, options);
    reap_zombies();
    return o;
}

Output DropletTest::run(const std::string& id) { return droplet({"run", "--bundle", bundle(), id}); }

nlohmann::json DropletTest::state(const std::string& id) {
    Output o = droplet({"state", id});
    if (o.status != 0)
        return nlohmann::json{{"error", o.err}};
    return nlohmann::json::parse(o.out);
}

std::string DropletTest::wait_status(const std::string& id, const std::string& status) {
    std::string seen;
    for (int i = 0; i < 100; ++i) {
        seen = state(id).value("status", "?");
        if (seen == status)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return seen;
}

bool DropletTest::wait_for_text(const std::string& path, const std::string& needle) {
    for (int i = 0; i < 100; ++i) {
        if (read_file_text(path).find(needle) != std::string::npos)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void DropletTest::expect_nothing_left(const std::string& id, pid_t pid) {
    struct stat st{};
    EXPECT_NE(::stat((state_root() + "/" + id).c_str(), &st), 0) << "state directory of " << id << " is left";
    if (pid > 0) {
        EXPECT_FALSE(process_exists(pid)) << "process " << pid << " of " << id << " is left";
    }
    EXPECT_EQ(host_mounts_mentioning_path(dir_), "");
    EXPECT_EQ(host_mounts_mentioning_path(busybox_rootfs()), "");
}

} // namespace droplet::test
