// exec: a second process joins every namespace of the container, with its own process spec.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstring>
#include <sstream>

#include "console_socket.hpp"
#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Exec : public ::testing::Test, public DropletTest {
protected:
    pid_t start_sleeper() {
        config()["hostname"] = "exec-box";
        config()["process"]["env"] = {"PATH=/bin", "FROM_CONFIG=yes"};
        set_args({"sleep", "1000"});
        SpawnOptions o;
        o.stdout_file = dir() + "/c.out";
        EXPECT_EQ(droplet({"create", "--bundle", bundle(), "c"}, o).status, 0);
        EXPECT_EQ(droplet({"start", "c"}).status, 0);
        return state("c")["pid"].get<pid_t>();
    }
};

std::string link_of(const std::string& path) {
    char buf[128] = {};
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST_F(Exec, JoinsEveryNamespaceOfTheContainer) {
    pid_t init = start_sleeper();
    Output o = droplet({"exec", "c", "sh", "-c", "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; hostname"});
    ASSERT_EQ(o.status, 0) << o.err;
    std::string expected;
    for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup"})
        expected += link_of("/proc/" + std::to_string(init) + "/ns/" + n) + "\n";
    EXPECT_EQ(o.out, expected + "exec-box\n");
    // The container's own processes are visible, the host's are not.
    Output ps = droplet({"exec", "c", "sh", "-c", "ls -d /proc/[0-9]* | wc -l; cat /proc/1/cmdline | tr '\\0' ' '"});
    EXPECT_NE(ps.out.find("sleep 1000"), std::string::npos) << ps.out;
    EXPECT_EQ(droplet({"delete", "--force", "c"}).status, 0);
    expect_nothing_left("c", init);
}

TEST_F(Exec, JoinsTheCgroupsOfTheContainer) {
    pid_t init = start_sleeper();
    // Put the init somewhere droplet exec is not: a cgroup2 child (and a v1 pids one on a
    // hybrid host).
    std::string name = "droplet-exec-test-" + std::to_string(::getpid());
    std::vector<std::string> dirs;
    for (std::string base : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup", "/sys/fs/cgroup/pids"}) {
        struct stat st{};
        if (::stat((base + "/cgroup.procs").c_str(), &st) != 0)
            continue;
        if (base == "/sys/fs/cgroup" && !dirs.empty())
            continue; // the unified mount was already taken
        std::string dir = base + "/" + name;
        ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
        dirs.push_back(dir);
        write_file_text(dir + "/cgroup.procs", std::to_string(init));
    }
    ASSERT_FALSE(dirs.empty());
    // Both seen from inside, through the container's cgroup namespace.
    Output o = droplet({"exec", "c", "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup"});
    EXPECT_EQ(o.status, 0) << o.err;
    size_t split = o.out.find("--\n");
    ASSERT_NE(split, std::string::npos) << o.out;
    EXPECT_EQ(o.out.substr(0, split), o.out.substr(split + 3));
    // The container has its own cgroup namespace rooted at its cgroup: the init moved out of
    // it shows as a path relative to that root ("0::/../<name>").
    EXPECT_NE(o.out.find("/" + name + "\n"), std::string::npos) << o.out;
    EXPECT_EQ(droplet({"delete", "--force", "c"}).status, 0);
    for (const std::string& dir : dirs)
        EXPECT_EQ(::rmdir(dir.c_str()), 0) << dir << ": " << std::strerror(errno);
}

TEST_F(Exec, JoinsAUserNamespaceWithItsMapping) {
    config()["linux"]["namespaces"].push_back({{"type", "user"}});
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
    config()["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
    nlohmann::json mounts = nlohmann::json::array();
    for (auto& m : config()["mounts"])
        if (m["destination"] != "/sys" && m["destination"] != "/sys/fs/cgroup")
            mounts.push_back(m);
    config()["mounts"] = mounts;
    pid_t init = start_sleeper();
    Output o = droplet({"exec", "--user", "1000", "c", "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user"});
    ASSERT_EQ(o.status, 0) << o.err;
    std::istringstream in(o.out);
    std::string uid, a, b, c, link;
    in >> uid >> a >> b >> c >> link;
    EXPECT_EQ(uid, "1000");
    EXPECT_EQ(a + " " + b + " " + c, "0 200000 65536");
    EXPECT_EQ(link, link_of("/proc/" + std::to_string(init) + "/ns/user"));
    // With a terminal of the container's devpts, owned by the process's user.
    ConsoleSocket socket(dir() + "/userns-console.sock");
    Output t = droplet({"exec", "--tty", "--detach", "--user", "1000", "--console-socket", socket.path(), "c", "sh",
                        "-c", "tty; stat -c %u /dev/pts/0"},
                       SpawnOptions::to_file(dir() + "/t.out"));
    ASSERT_EQ(t.status, 0) << read_file_text(dir() + "/t.out");
    int master = socket.receive_master();
    ASSERT_GE(master, 0);
    std::string seen = ConsoleSocket::read_all(master);
    ::close(master);
    EXPECT_NE(seen.find("/dev/pts/0\r\n1000"), std::string::npos) << seen;
    // Seen from the host, the process runs as the mapped uid.
    Output detached = droplet({"exec", "--detach", "--user", "1000", "--pid-file", dir() + "/p", "c", "sleep", "100"},
                              SpawnOptions::to_file(dir() + "/d.out"));
    ASSERT_EQ(detached.status, 0) << read_file_text(dir() + "/d.out");
    std::string status = read_file_text("/proc/" + trim(read_file_text(dir() + "/p")) + "/status");
    EXPECT_NE(status.find("Uid:\t201000\t201000"), std::string::npos) << status;
}

TEST_F(Exec, ItsOwnProcessSettingsAndExitStatus) {
    start_sleeper();
    Output o = droplet({"exec", "--env", "EXTRA=1", "--cwd", "/etc", "--user", "1000:1000", "c", "sh", "-c",
                        "echo $FROM_CONFIG $EXTRA; pwd; id -u; id -g; exit 7"});
    EXPECT_EQ(o.status, 7) << o.err;
    EXPECT_EQ(o.out, "yes 1\n/etc\n1000\n1000\n");
}

TEST_F(Exec, NoHostFdLeaksIn) {
    start_sleeper();
    int fd = ::open("/etc/hostname", O_RDONLY);
    ASSERT_GE(fd, 0);
    int high = ::fcntl(fd, F_DUPFD, 40);
    ::close(fd);
    SpawnOptions opt;
    opt.keep_fds = {high};
    Output o = droplet({"exec", "c", "ls", "/proc/self/fd"}, opt);
    ::close(high);
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "0\n1\n2\n3\n");
}

TEST_F(Exec, PreservingFdsTheCallerDidNotOpenLeaksNothingOfDroplets) {
    start_sleeper();
    Output o = droplet({"exec", "--preserve-fds", "2", "c", "ls", "/proc/self/fd"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "0\n1\n2\n3\n");
}

TEST_F(Exec, ProcessJsonFile) {
    start_sleeper();
    nlohmann::json p = {{"args", {"sh", "-c", "echo $ONLY; id -u"}},
                        {"env", {"PATH=/bin", "ONLY=from-file"}},
                        {"cwd", "/"},
                        {"user", {{"uid", 42}, {"gid", 42}}}};
    write_file_text(dir() + "/process.json", p.dump());
    Output o = droplet({"exec", "--process", dir() + "/process.json", "c"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "from-file\n42\n");
}

TEST_F(Exec, DetachWritesThePidAndReturns) {
    start_sleeper();
    std::string pid_file = dir() + "/exec.pid";
    Output o = droplet({"exec", "--detach", "--pid-file", pid_file, "c", "sleep", "999"},
                       SpawnOptions::to_file(dir() + "/exec.out"));
    ASSERT_EQ(o.status, 0) << read_file_text(dir() + "/exec.out");
    pid_t pid = std::stoi(read_file_text(pid_file));
    EXPECT_TRUE(process_exists(pid));
    auto pids = nlohmann::json::parse(droplet({"ps", "--format", "json", "c"}).out).get<std::vector<pid_t>>();
    EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end());
    EXPECT_EQ(droplet({"delete", "--force", "c"}).status, 0);
    EXPECT_FALSE(process_exists(pid));
}

TEST_F(Exec, TtyOverTheConsoleSocket) {
    start_sleeper();
    ConsoleSocket socket(dir() + "/exec-console.sock");
    Output o = droplet({"exec", "--tty", "--detach", "--console-socket", socket.path(), "c", "sh", "-c",
                        "[ -t 1 ] && echo exec-has-a-tty; tty"},
                       SpawnOptions::to_file(dir() + "/exec.out"));
    ASSERT_EQ(o.status, 0) << read_file_text(dir() + "/exec.out");
    int master = socket.receive_master();
    ASSERT_GE(master, 0);
    std::string seen = ConsoleSocket::read_all(master);
    EXPECT_NE(seen.find("exec-has-a-tty"), std::string::npos) << seen;
    // A pty of the container's devpts, not the host's.
    EXPECT_NE(seen.find("/dev/pts/0"), std::string::npos) << seen;
    ::close(master);
}

TEST_F(Exec, TtyInTheForegroundIsRelayed) {
    start_sleeper();
    std::string command = "'" + droplet_path() + "' --root '" + state_root() +
                          "' exec --tty c sh -c '[ -t 0 ] && echo relayed-tty; read l; echo got:$l; exit 6'";
    SpawnOptions o;
    o.stdin_text = "typed\n";
    Output r = spawn({"script", "-qec", command, "/dev/null"}, o);
    EXPECT_EQ(r.status, 6) << r.out << r.err;
    EXPECT_NE(r.out.find("relayed-tty"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("got:typed"), std::string::npos) << r.out;
}

TEST_F(Exec, ErrorsAreNamed) {
    start_sleeper();
    Output o = droplet({"exec", "c", "/no/such/thing"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("/no/such/thing"), std::string::npos) << o.err;
    o = droplet({"exec", "--cwd", "/missing", "c", "true"});
    EXPECT_NE(o.err.find("process.cwd: chdir /missing"), std::string::npos) << o.err;
    ASSERT_EQ(droplet({"kill", "c", "KILL"}).status, 0);
    EXPECT_EQ(wait_status("c", "stopped"), "stopped");
    o = droplet({"exec", "c", "true"});
    EXPECT_NE(o.err.find("is stopped"), std::string::npos) << o.err;
}

TEST_F(Exec, TheInitRunsFromASealedCopyOfDroplet) {
    // CVE-2019-5736: what a container could reach through /proc/<pid>/exe is an immutable
    // memfd, never the binary on disk.
    set_args({"true"});
    SpawnOptions o;
    o.stdout_file = dir() + "/c.out";
    ASSERT_EQ(droplet({"create", "--bundle", bundle(), "c"}, o).status, 0);
    pid_t init = state("c")["pid"].get<pid_t>();
    std::string exe = "/proc/" + std::to_string(init) + "/exe";
    EXPECT_EQ(link_of(exe).rfind("/memfd:droplet", 0), 0u) << link_of(exe);
    int fd = ::open(exe.c_str(), O_RDWR);
    if (fd >= 0) {
        EXPECT_LT(::write(fd, "x", 1), 0) << "the copy accepted a write";
        EXPECT_EQ(errno, EPERM);
        int seals = ::fcntl(fd, F_GET_SEALS);
        EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_SEAL), F_SEAL_WRITE | F_SEAL_SEAL);
        ::close(fd);
    }
    EXPECT_EQ(droplet({"delete", "--force", "c"}).status, 0);
}

} // namespace
} // namespace droplet::test
