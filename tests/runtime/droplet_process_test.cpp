// process.*: what the program sees about itself — user, groups, umask, env, cwd, rlimits,
// oom score, no_new_privs, capabilities, inherited fds.
#include <fcntl.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Process : public ::testing::Test, public DropletTest {};

TEST_F(Process, UserGroupsAndUmask) {
    config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {10, 20}}, {"umask", 027}};
    set_args({"sh", "-c", "id; umask"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_NE(o.out.find("uid=1000(user) gid=1000(user) groups=10,20"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("0027"), std::string::npos) << o.out;
}

TEST_F(Process, EnvironmentAndWorkingDirectory) {
    config()["process"]["env"] = {"PATH=/bin", "GREETING=hello world"};
    config()["process"]["cwd"] = "/etc";
    set_args({"sh", "-c", "echo \"$GREETING\"; pwd; env | sort"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out.substr(0, o.out.find("\n", o.out.find("\n") + 1) + 1), "hello world\n/etc\n");
    // Nothing of droplet's own environment leaks in.
    EXPECT_EQ(o.out.find("DROPLET"), std::string::npos) << o.out;
}

TEST_F(Process, AMissingWorkingDirectoryIsNamed) {
    config()["process"]["cwd"] = "/nonexistent";
    set_args({"true"});
    Output o = run();
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("process.cwd: chdir /nonexistent"), std::string::npos) << o.err;
    expect_nothing_left("c");
}

TEST_F(Process, Rlimits) {
    config()["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 123}, {"hard", 456}},
                                      {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}};
    set_args({"sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "123\n456\n0\n");
}

TEST_F(Process, ARlimitAboveTheHardLimitIsNamed) {
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    syscall(SYS_capget, &h, d);
    if (d[0].effective & (1u << CAP_SYS_RESOURCE))
        GTEST_SKIP() << "this host has CAP_SYS_RESOURCE, so any hard limit can be raised";
    rlimit current{};
    getrlimit(RLIMIT_NOFILE, &current);
    uint64_t above = current.rlim_max + 1;
    config()["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", above}, {"hard", above}}};
    set_args({"true"});
    Output o = run();
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("RLIMIT_NOFILE"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("above the current hard limit " + std::to_string(current.rlim_max)), std::string::npos)
        << o.err;
    expect_nothing_left("c");
}

TEST_F(Process, OomScoreAdj) {
    config()["process"]["oomScoreAdj"] = 567;
    set_args({"cat", "/proc/self/oom_score_adj"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "567\n");
}

TEST_F(Process, NoNewPrivilegesAndCapabilities) {
    config()["process"]["noNewPrivileges"] = true;
    config()["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_CHOWN"}},
                                           {"effective", {"CAP_KILL"}},
                                           {"permitted", {"CAP_KILL"}},
                                           {"inheritable", nlohmann::json::array()}};
    set_args({"grep", "-E", "^(NoNewPrivs|CapEff|CapPrm|CapBnd|CapInh)", "/proc/self/status"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_NE(o.out.find("CapInh:\t0000000000000000"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("CapPrm:\t0000000000000020"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("CapEff:\t0000000000000020"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("CapBnd:\t0000000000000021"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("NoNewPrivs:\t1"), std::string::npos) << o.out;

    config()["process"]["noNewPrivileges"] = false;
    o = run();
    EXPECT_NE(o.out.find("NoNewPrivs:\t0"), std::string::npos) << o.out;
}

TEST_F(Process, AmbientCapabilitiesReachANonRootUser) {
    config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    config()["process"]["capabilities"] = {{"bounding", {"CAP_NET_BIND_SERVICE"}},
                                           {"effective", {"CAP_NET_BIND_SERVICE"}},
                                           {"permitted", {"CAP_NET_BIND_SERVICE"}},
                                           {"inheritable", {"CAP_NET_BIND_SERVICE"}},
                                           {"ambient", {"CAP_NET_BIND_SERVICE"}}};
    set_args({"grep", "-E", "^(CapEff|CapAmb)", "/proc/self/status"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_NE(o.out.find("CapEff:\t0000000000000400"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("CapAmb:\t0000000000000400"), std::string::npos) << o.out;
}

TEST_F(Process, AnUnknownCapabilityIsNamedInAWarningAndSkipped) {
    // As runc and crun do: a name this droplet does not know (a newer kernel's, a typo) is
    // reported and left out; the rest of the set still applies.
    config()["process"]["capabilities"] = {{"bounding", {"CAP_NOT_A_THING", "CAP_KILL"}},
                                           {"effective", {"CAP_KILL"}},
                                           {"permitted", {"CAP_KILL"}}};
    set_args({"grep", "^CapBnd", "/proc/self/status"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_NE(o.err.find("warning: process.capabilities.bounding: unknown capability \"CAP_NOT_A_THING\", ignoring"),
              std::string::npos)
        << o.err;
    EXPECT_NE(o.out.find("CapBnd:\t0000000000000020"), std::string::npos) << o.out;
    expect_nothing_left("c");
}

TEST_F(Process, ACapabilityDropletLacksIsAnErrorNamingIt) {
    // Root on these machines lacks CAP_SYS_RESOURCE; wherever droplet lacks a capability the
    // container could never get it, and saying which beats a bare capset EPERM.
    int missing = -1;
    for (int c : {24 /* CAP_SYS_RESOURCE */, 25 /* CAP_SYS_TIME */, 16 /* CAP_SYS_MODULE */})
        if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0) {
            missing = c;
            break;
        }
    if (missing < 0)
        GTEST_SKIP() << "droplet's caller holds every capability this test could ask for";
    const char* name = missing == 24 ? "CAP_SYS_RESOURCE" : missing == 25 ? "CAP_SYS_TIME" : "CAP_SYS_MODULE";
    config()["process"]["capabilities"] = {{"bounding", {"CAP_KILL", name}},
                                           {"effective", {"CAP_KILL", name}},
                                           {"permitted", {"CAP_KILL", name}}};
    set_args({"true"});
    Output o = run();
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find(std::string("process.capabilities.bounding: ") + name +
                         " cannot be granted: droplet itself does not have it"),
              std::string::npos)
        << o.err;
    expect_nothing_left("c");
}

TEST_F(Process, NoHostFdLeaksIn) {
    // An fd droplet inherits without close-on-exec must not reach the container.
    int fd = ::open("/etc/hostname", O_RDONLY);
    ASSERT_GE(fd, 3);
    int high = ::fcntl(fd, F_DUPFD, 40);
    ::close(fd);
    set_args({"ls", "/proc/self/fd"});
    SpawnOptions opt;
    opt.keep_fds = {high};
    Output o = droplet({"run", "--bundle", bundle(), "c"}, opt);
    ::close(high);
    ASSERT_EQ(o.status, 0) << o.err;
    // 0-2 and the directory ls itself is reading.
    EXPECT_EQ(o.out, "0\n1\n2\n3\n");
}

TEST_F(Process, PreserveFdsPassesThem) {
    write_file_text(dir() + "/shared", "through fd 3\n");
    int fd = ::open((dir() + "/shared").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    int moved = ::dup3(fd, 9, O_CLOEXEC); // dash redirects single-digit fds only
    ::close(fd);
    set_args({"sh", "-c", "cat <&3; ls /proc/self/fd"});
    write_config();
    SpawnOptions opt;
    opt.keep_fds = {moved};
    // A shell lands the fd on 3 in droplet, as a caller of --preserve-fds would.
    std::string m = std::to_string(moved);
    Output o = spawn({"sh", "-c", "exec 3<&" + m + " " + m + "<&-; exec \"$@\"", "sh", droplet_path(), "--root",
                      state_root(), "run", "--preserve-fds", "1", "--bundle", bundle(), "c"},
                     opt);
    ::close(moved);
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "through fd 3\n0\n1\n2\n3\n4\n");
}

TEST_F(Process, PreservingFdsTheCallerDidNotOpenLeaksNothingOfDroplets) {
    // fds 3 and 4 are not open in droplet: its own sockets must not end up there.
    set_args({"ls", "/proc/self/fd"});
    Output o = droplet({"run", "--preserve-fds", "2", "--bundle", bundle(), "c"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "0\n1\n2\n3\n");
}

TEST_F(Process, ListenFdsArePassedWithTheirVariables) {
    write_file_text(dir() + "/socket-stand-in", "activated\n");
    int fd = ::open((dir() + "/socket-stand-in").c_str(), O_RDONLY | O_CLOEXEC);
    int moved = ::dup3(fd, 9, O_CLOEXEC);
    ::close(fd);
    set_args({"sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"});
    write_config();
    SpawnOptions opt;
    opt.keep_fds = {moved};
    opt.env = {"LISTEN_FDS=1"};
    opt.listen_pid_is_child = true;
    Output o = spawn({"sh", "-c", "exec 3<&" + std::to_string(moved) + " " + std::to_string(moved) +
                                      "<&-; LISTEN_PID=$$ exec \"$@\"",
                      "sh", droplet_path(), "--root", state_root(), "run", "--bundle", bundle(), "c"},
                     opt);
    ::close(moved);
    ASSERT_EQ(o.status, 0) << o.err;
    // pid 1: the program is its pid namespace's init.
    EXPECT_EQ(o.out, "1 1\nactivated\n");
}

} // namespace
} // namespace droplet::test
