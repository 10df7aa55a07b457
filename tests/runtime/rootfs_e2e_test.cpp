// The rootfs through the real droplet binary: what a container sees, and what a bad mount gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "droplet_harness.hpp"
#include "rootfs_harness.hpp"

namespace droplet::test {
namespace {

using ::testing::HasSubstr;

class RootfsE2e : public ::testing::Test, public DropletTest {
protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root";
    }
    // A private busybox rootfs the test may change (the shared one is read-only).
    void use_own_rootfs() {
        // Reachable by a container root mapped to another host uid.
        ::chmod(image.dir().c_str(), 0755);
        config()["root"]["path"] = image.rootfs();
    }
    void add_mount(const std::string& destination, const std::string& type, const std::string& source,
                   const std::vector<std::string>& options) {
        config()["mounts"].push_back({{"destination", destination}, {"type", type}, {"source", source}, {"options", options}});
    }
    void expect_refused_at_create(const std::string& message) {
        write_config();
        Output o = droplet({"create", "--bundle", bundle(), "bad"});
        EXPECT_NE(o.status, 0);
        EXPECT_THAT(o.err, HasSubstr(message));
        expect_nothing_left("bad");
        EXPECT_EQ(host_mounts_mentioning_path(image.dir()), "");
    }

    TempRootfs image;
};

// One line per fact, from busybox inside the container.
constexpr const char* observe_script =
    "stat -c 'null=%F %t:%T %a' /dev/null; stat -c 'tty=%t:%T' /dev/tty;"
    "echo ptmx=$(readlink /dev/ptmx) fd=$(readlink /dev/fd) stderr=$(readlink /dev/stderr);"
    "echo timer_list=$(wc -c < /proc/timer_list);"
    "echo sysctl=$( (echo x > /proc/sys/kernel/hostname) 2>&1 | grep -o 'Read-only file system');"
    "echo root=$(touch /new 2>&1 | grep -o 'Read-only file system');"
    "echo tmp=$(touch /tmp/new && echo writable);"
    "echo sys=$(grep ' /sys ' /proc/self/mountinfo | grep -o ' ro,nosuid,nodev,noexec');"
    "echo cgroup=$(stat -f -c %t /sys/fs/cgroup)";

void expect_observed(const std::string& out) {
    EXPECT_THAT(out, HasSubstr("null=character special file 1:3 666\n"));
    EXPECT_THAT(out, HasSubstr("tty=5:0\n"));
    EXPECT_THAT(out, HasSubstr("ptmx=pts/ptmx fd=/proc/self/fd stderr=/proc/self/fd/2\n"));
    EXPECT_THAT(out, HasSubstr("timer_list=0\n")) << "maskedPaths of the default spec";
    EXPECT_THAT(out, HasSubstr("sysctl=Read-only file system\n")) << "readonlyPaths of the default spec";
    EXPECT_THAT(out, HasSubstr("root=Read-only file system\n")) << "root.readonly of the default spec";
    EXPECT_THAT(out, HasSubstr("tmp=writable\n"));
    EXPECT_THAT(out, HasSubstr("sys= ro,nosuid,nodev,noexec\n"));
    EXPECT_THAT(out, HasSubstr("cgroup=63677270\n")) << "cgroup2's magic number";
}

TEST_F(RootfsE2e, DefaultSpecAsTheContainerSeesIt) {
    use_own_rootfs();
    set_args({"sh", "-c", observe_script});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    expect_observed(o.out);
    expect_nothing_left("c");
    EXPECT_EQ(host_mounts_mentioning_path(image.dir()), "");
}

TEST_F(RootfsE2e, DefaultSpecInAUserNamespace) {
    use_own_rootfs();
    config()["linux"]["namespaces"].push_back({{"type", "user"}});
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    config()["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    config()["linux"].erase("resources");
    set_args({"sh", "-c", observe_script});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    expect_observed(o.out);
    expect_nothing_left("c");
    EXPECT_EQ(host_mounts_mentioning_path(image.dir()), "");
}

TEST_F(RootfsE2e, NoNewPrivilegesWithAUserNamespaceKeepsMasksAndReadonlyPaths) {
    use_own_rootfs();
    config()["process"]["noNewPrivileges"] = true;
    config()["linux"]["namespaces"].push_back({{"type", "user"}});
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
    config()["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
    config()["linux"].erase("resources");
    config()["linux"]["maskedPaths"].push_back("/etc/secret");
    config()["linux"]["readonlyPaths"].push_back("/etc/config");
    std::filesystem::create_directories(image.rootfs() + "/etc/config");
    write_file_text(image.rootfs() + "/etc/secret", "hidden");
    set_args({"sh", "-c", std::string(observe_script) +
                              "; grep NoNewPrivs /proc/self/status; echo secret=$(cat /etc/secret);"
                              "echo config=$(touch /etc/config/x 2>&1 | grep -o 'Read-only file system')"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    expect_observed(o.out);
    EXPECT_THAT(o.out, HasSubstr("NoNewPrivs:\t1\n"));
    EXPECT_THAT(o.out, HasSubstr("secret=\n"));
    EXPECT_THAT(o.out, HasSubstr("config=Read-only file system\n"));
    expect_nothing_left("c");
}

TEST_F(RootfsE2e, UserNamespaceMappingOnlyRootStillGetsPtys) {
    // devpts refuses gid=5 when group 5 is not mapped: droplet retries without it.
    use_own_rootfs();
    config()["linux"]["namespaces"].push_back({{"type", "user"}});
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 300000}, {"size", 1}}};
    config()["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 300000}, {"size", 1}}};
    config()["linux"].erase("resources");
    set_args({"sh", "-c", "grep ' /dev/pts ' /proc/self/mountinfo | grep -o ' rw,[a-z0-9=,]*$'; stat -c %t:%T /dev/null"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, " rw,mode=620,ptmxmode=666\n1:3\n") << "devpts options without gid=5";
    expect_nothing_left("c");
}

TEST_F(RootfsE2e, SymlinkInTheImageKeepsTheBindInside) {
    use_own_rootfs();
    const std::string source = dir() + "/source";
    const std::string host_target = dir() + "/host-target";
    std::filesystem::create_directories(source);
    std::filesystem::create_directories(host_target);
    std::filesystem::create_directory_symlink(host_target, image.rootfs() + "/mnt");
    add_mount("/mnt", "bind", source, {"rbind", "rw"});
    // The harness's config mounts a tmpfs on /tmp first, so the symlink's target is created
    // in that tmpfs: the mount point shows up inside the container only.
    set_args({"sh", "-c", "echo inside > /mnt/file && cat /mnt/file && grep -c ' " + host_target + " ' /proc/self/mountinfo"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "inside\n1\n");
    EXPECT_EQ(read_file_text(source + "/file"), "inside\n");
    EXPECT_FALSE(std::filesystem::exists(host_target + "/file")) << "the mount reached the host path";
    expect_nothing_left("c");
}

TEST_F(RootfsE2e, SysctlTheNamespacesDoNotIsolateIsRefused) {
    config()["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
    expect_refused_at_create("config.json: linux.sysctl \"vm.swappiness\": not isolated by any namespace");
}

TEST_F(RootfsE2e, IdmappedMountIsRefused) {
    add_mount("/data", "bind", "/tmp", {"rbind", "idmap"});
    expect_refused_at_create("config.json: mounts[");
    Output o = droplet({"create", "--bundle", bundle(), "bad"});
    EXPECT_THAT(o.err, HasSubstr("id-mapped mounts are not supported"));
    expect_nothing_left("bad");
}

TEST_F(RootfsE2e, MountSteeredIntoProcBySymlinkFailsCleanly) {
    use_own_rootfs();
    std::filesystem::create_directory_symlink("/proc/self", image.rootfs() + "/self");
    add_mount("/self/attr", "tmpfs", "tmpfs", {"size=1m"});
    expect_refused_at_create("destination \"/self/attr\": resolves into /proc, refusing to mount over it");
}

TEST_F(RootfsE2e, MissingBindSourceNamesIt) {
    use_own_rootfs();
    add_mount("/data", "bind", "/nonexistent/source", {"rbind"});
    expect_refused_at_create("bind-mount /nonexistent/source on /data (in " + image.rootfs() + "): No such file or directory");
}

} // namespace
} // namespace droplet::test
