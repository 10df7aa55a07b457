// Podman drives droplet the way it drives runc (through conmon): run, a tty, exec, stop, rm.
// The image is imported from the tests' busybox rootfs into private podman storage.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Podman : public ::testing::Test {
protected:
    static inline std::string dir_;
    static inline std::string import_error_;

    // podman 4.3 with the cgroupfs manager on this hybrid host leaves an empty
    // libpod_parent/libpod-<id> in the unified hierarchy after `rm`, with runc as the runtime
    // just as with droplet (checked): podman's leftovers, which the suite takes back.
    static inline const std::string libpod_parent = "/sys/fs/cgroup/unified/libpod_parent";
    static inline std::set<std::string> libpod_before_;

    static std::set<std::string> libpod_cgroups() {
        std::set<std::string> names;
        if (DIR* d = ::opendir(libpod_parent.c_str())) {
            while (dirent* e = ::readdir(d))
                if (std::string(e->d_name).rfind("libpod-", 0) == 0)
                    names.insert(e->d_name);
            ::closedir(d);
        }
        return names;
    }

    static void SetUpTestSuite() {
        libpod_before_ = libpod_cgroups();
        const std::string& rootfs = busybox_rootfs();
        char tmpl[] = "/tmp/droplet-podman-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        write_file_text(dir_ + "/containers.conf",
                        "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
                        "[containers]\nnetns = \"none\"\n");
        Output tar = spawn({"tar", "-C", rootfs, "-cf", dir_ + "/busybox.tar", "."});
        Output imported = podman({"import", dir_ + "/busybox.tar", "localhost/droplet-busybox:test"});
        if (tar.status != 0 || imported.status != 0)
            import_error_ = tar.err + imported.err;
    }

    static void TearDownTestSuite() {
        podman({"rm", "--all", "--force", "--time", "0"});
        // Storage mounts its overlay directory; it must go before the directory can.
        spawn({"umount", "-R", dir_ + "/storage/overlay"});
        spawn({"rm", "-rf", dir_});
        for (const std::string& name : libpod_cgroups())
            if (!libpod_before_.count(name))
                ::rmdir((libpod_parent + "/" + name).c_str()); // only empty ones go
    }

    void SetUp() override {
        if (::access("/usr/bin/podman", X_OK) != 0)
            GTEST_SKIP() << "podman is not installed";
        ASSERT_EQ(import_error_, "");
    }

    static std::vector<std::string> podman_argv(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"podman",
                                         "--root", dir_ + "/storage",
                                         "--runroot", dir_ + "/run",
                                         "--tmpdir", dir_ + "/tmp",
                                         "--storage-driver", "overlay",
                                         "--cgroup-manager=cgroupfs",
                                         "--events-backend=file",
                                         "--runtime", droplet_path(),
                                         // droplet's state (and its seccomp cache) in the test's
                                         // directory, not the host's /run/droplet.
                                         "--runtime-flag", "root=" + dir_ + "/droplet"};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    static Output podman(const std::vector<std::string>& args) {
        SpawnOptions o;
        o.env = {"CONTAINERS_CONF=" + dir_ + "/containers.conf"};
        return spawn(podman_argv(args), o);
    }

    // The limits this host allows (root here lacks CAP_SYS_RESOURCE; see TESTENV.md).
    static std::vector<std::string> run_args(std::vector<std::string> more) {
        std::vector<std::string> a = {"run", "--network=none", "--ulimit", "nofile=20000:20000",
                                      "--ulimit", "nproc=32768:32768", "--pids-limit=0"};
        a.insert(a.end(), more.begin(), more.end());
        return a;
    }

    static void expect_no_droplet_state(const std::string& id) {
        struct stat st{};
        EXPECT_NE(::stat((dir_ + "/droplet/" + id).c_str(), &st), 0) << "droplet state left for " << id;
    }
};

TEST_F(Podman, RunRmEchoesAndLeavesNothing) {
    Output o = podman(run_args({"--rm", "--name", "droplet-echo", "localhost/droplet-busybox:test", "echo", "hi"}));
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "hi\n");
    EXPECT_EQ(trim(podman({"ps", "--all", "--quiet"}).out), "");
}

TEST_F(Podman, TheExitStatusReachesTheUser) {
    Output o = podman(run_args({"--rm", "localhost/droplet-busybox:test", "sh", "-c", "exit 5"}));
    EXPECT_EQ(o.status, 5) << o.err;
}

TEST_F(Podman, AnInteractiveTtyReachesTheProgram) {
    // script gives podman a terminal, as a person's shell would; what is typed reaches the program.
    std::vector<std::string> argv = podman_argv(run_args(
        {"--rm", "-it", "localhost/droplet-busybox:test", "sh", "-c",
         "[ -t 0 ] && [ -t 1 ] && echo has-a-tty; tty; read line; echo got:$line"}));
    std::string command;
    for (const std::string& a : argv)
        command += "'" + a + "' ";
    SpawnOptions o;
    o.env = {"CONTAINERS_CONF=" + dir_ + "/containers.conf"};
    o.stdin_text = "typed\n";
    Output r = spawn({"script", "-qec", command, "/dev/null"}, o);
    EXPECT_EQ(r.status, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("has-a-tty"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("got:typed"), std::string::npos) << r.out;
}

TEST_F(Podman, ExecStopAndRm) {
    Output started = podman(run_args({"-d", "--name", "droplet-svc", "localhost/droplet-busybox:test", "sleep", "1000"}));
    ASSERT_EQ(started.status, 0) << started.err;
    std::string id = trim(started.out);
    Output e = podman({"exec", "droplet-svc", "sh", "-c", "echo inside; cat /proc/1/cmdline | tr '\\0' ' '"});
    EXPECT_EQ(e.status, 0) << e.err;
    EXPECT_EQ(e.out, "inside\nsleep 1000 ");
    Output t = podman({"exec", "-t", "droplet-svc", "sh", "-c", "[ -t 1 ] && echo exec-tty"});
    EXPECT_EQ(t.status, 0) << t.err;
    EXPECT_NE(t.out.find("exec-tty"), std::string::npos) << t.out;
    EXPECT_EQ(podman({"exec", "droplet-svc", "sh", "-c", "exit 3"}).status, 3);

    // sleep as pid 1 ignores SIGTERM: podman falls back to `kill 9` after the timeout.
    Output stop = podman({"stop", "--time", "1", "droplet-svc"});
    EXPECT_EQ(stop.status, 0) << stop.err;
    EXPECT_EQ(trim(podman({"inspect", "--format", "{{.State.Status}}", "droplet-svc"}).out), "exited");
    Output rm = podman({"rm", "droplet-svc"});
    EXPECT_EQ(rm.status, 0) << rm.err;
    EXPECT_EQ(trim(podman({"ps", "--all", "--quiet"}).out), "");
    expect_no_droplet_state(id);
}

} // namespace
} // namespace droplet::test
