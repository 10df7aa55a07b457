// The rootfs as the container's init builds it, checked from inside real namespaces (needs root).
#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rootfs.hpp"
#include "rootfs_harness.hpp"

namespace droplet {
namespace {

using test::ChildResult;
using test::Facts;
using test::IsolationOptions;
using test::TempRootfs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Mount make_mount(std::string destination, std::string type, std::string source, std::vector<std::string> options = {}) {
    Mount mount;
    mount.destination = std::move(destination);
    mount.type = std::move(type);
    mount.source = std::move(source);
    mount.options = std::move(options);
    return mount;
}

// The mounts `droplet spec` (and runc spec) write, plus masked/readonly paths with image-side
// entries the tests can observe.
Spec usual_spec(bool user_namespace) {
    Spec spec;
    spec.root.path = "rootfs";
    spec.mounts = {
        make_mount("/proc", "proc", "proc"),
        make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        make_mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        make_mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        make_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        make_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        make_mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
    };
    for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        spec.linux.namespaces.push_back(Namespace{type, ""});
    if (user_namespace)
        spec.linux.namespaces.push_back(Namespace{"user", ""});
    spec.linux.masked_paths = {"/proc/kcore", "/proc/timer_list", "/proc/acpi", "/etc/secret-dir", "/etc/secret-file", "/proc/not-there"};
    spec.linux.readonly_paths = {"/proc/sys", "/proc/sysrq-trigger", "/etc/ro-dir", "/not/there"};
    return spec;
}

void write_file(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

std::string error_of(const ChildResult& result) {
    auto found = result.facts.find("error");
    return found == result.facts.end() ? "" : found->second;
}

std::string fact(const ChildResult& result, const std::string& key) {
    auto found = result.facts.find(key);
    return found == result.facts.end() ? "<missing " + key + ">" : found->second;
}

int directory_entries(const std::string& path) {
    DIR* dir = opendir(path.c_str());
    if (!dir)
        return -1;
    int count = 0;
    while (dirent* entry = readdir(dir))
        if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..")
            ++count;
    closedir(dir);
    return count;
}

// What every variant of the usual spec must show from inside.
void observe_usual_container(Facts& facts) {
    char cwd[256] = {};
    facts.set("cwd", getcwd(cwd, sizeof cwd) ? cwd : "?");
    facts.set("busybox", access("/bin/busybox", X_OK) == 0 ? "yes" : "no");
    for (const char* path : {"/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys/fs/cgroup"}) {
        facts.set(std::string("type ") + path, test::fs_type(path));
        facts.set(std::string("flags ") + path, test::mount_flags(path));
    }
    for (const char* device : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/fuse"})
        facts.set(device, test::device_node(device));
    for (const char* link : {"/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"})
        facts.set(link, test::link_target(link));
    int pty = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    facts.set("new pty", pty >= 0 && access("/dev/pts/0", F_OK) == 0 ? "/dev/pts/0" : "none");
    facts.set("timer_list", test::read_text("/proc/timer_list"));
    facts.set("secret-file", test::read_text("/etc/secret-file"));
    facts.set("secret-dir entries", std::to_string(directory_entries("/etc/secret-dir")));
    facts.set("write secret-dir", test::write_result("/etc/secret-dir/new"));
    facts.set("write /proc/sys", test::write_result("/proc/sys/kernel/hostname"));
    facts.set("write ro-dir", test::write_result("/etc/ro-dir/file"));
    facts.set("write /etc", test::write_result("/etc/writable"));
    facts.set("write /dev/shm", test::write_result("/dev/shm/x"));
}

void expect_usual_container(const ChildResult& result, bool user_namespace) {
    ASSERT_EQ(error_of(result), "");
    ASSERT_EQ(result.status, 0);
    EXPECT_EQ(fact(result, "cwd"), "/");
    EXPECT_EQ(fact(result, "busybox"), "yes");
    EXPECT_EQ(fact(result, "type /proc"), "proc");
    EXPECT_EQ(fact(result, "type /sys"), "sysfs");
    EXPECT_THAT(fact(result, "flags /sys"), StartsWith("ro,nosuid,nodev,noexec"));
    EXPECT_EQ(fact(result, "type /dev"), "tmpfs");
    EXPECT_EQ(fact(result, "flags /dev"), "nosuid");
    EXPECT_EQ(fact(result, "type /dev/pts"), "devpts");
    EXPECT_EQ(fact(result, "flags /dev/pts"), "nosuid,noexec");
    EXPECT_EQ(fact(result, "type /dev/shm"), "tmpfs");
    EXPECT_EQ(fact(result, "flags /dev/shm"), "nosuid,nodev,noexec");
    EXPECT_EQ(fact(result, "type /dev/mqueue"), "mqueue");
    EXPECT_EQ(fact(result, "type /sys/fs/cgroup"), "cgroup2");
    EXPECT_EQ(fact(result, "flags /sys/fs/cgroup"), "ro,nosuid,nodev,noexec");

    EXPECT_THAT(fact(result, "/dev/null"), StartsWith("c 1:3 0666"));
    EXPECT_THAT(fact(result, "/dev/zero"), StartsWith("c 1:5 0666"));
    EXPECT_THAT(fact(result, "/dev/full"), StartsWith("c 1:7 0666"));
    EXPECT_THAT(fact(result, "/dev/random"), StartsWith("c 1:8 0666"));
    EXPECT_THAT(fact(result, "/dev/urandom"), StartsWith("c 1:9 0666"));
    EXPECT_THAT(fact(result, "/dev/tty"), StartsWith("c 5:0 0666"));
    if (!user_namespace) {
        EXPECT_EQ(fact(result, "/dev/fuse"), "c 10:229 0640 1000:1001") << "fileMode/uid/gid of linux.devices";
    }
    EXPECT_EQ(fact(result, "/dev/ptmx"), "pts/ptmx");
    EXPECT_EQ(fact(result, "/dev/fd"), "/proc/self/fd");
    EXPECT_EQ(fact(result, "/dev/stdin"), "/proc/self/fd/0");
    EXPECT_EQ(fact(result, "/dev/stdout"), "/proc/self/fd/1");
    EXPECT_EQ(fact(result, "/dev/stderr"), "/proc/self/fd/2");
    EXPECT_EQ(fact(result, "new pty"), "/dev/pts/0") << "the container's own devpts instance";

    EXPECT_EQ(fact(result, "timer_list"), "") << "a masked /proc file reads empty (non-empty on the host)";
    EXPECT_EQ(fact(result, "secret-file"), "");
    EXPECT_EQ(fact(result, "secret-dir entries"), "0");
    EXPECT_EQ(fact(result, "write secret-dir"), "Read-only file system");
    EXPECT_EQ(fact(result, "write /proc/sys"), "Read-only file system");
    EXPECT_EQ(fact(result, "write ro-dir"), "Read-only file system");
    EXPECT_EQ(fact(result, "write /etc"), "ok");
    EXPECT_EQ(fact(result, "write /dev/shm"), "ok");
}

class RootfsTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root";
        write_file(tmp.rootfs() + "/etc/secret-dir/key", "k");
        write_file(tmp.rootfs() + "/etc/secret-file", "s");
        write_file(tmp.rootfs() + "/etc/ro-dir/file", "r");
    }
    void TearDown() override {
        EXPECT_EQ(test::host_mounts_mentioning(tmp.dir()), "") << "mounts leaked onto the host";
    }

    TempRootfs tmp;
};

TEST_F(RootfsTest, UsualSpecBuildsTheContainerFilesystem) {
    Spec spec = usual_spec(false);
    spec.linux.devices.push_back(Device{"/dev/fuse", 'c', 10, 229, 0640, 1000, 1001});
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        validate_rootfs(spec);
        prepare_rootfs(spec, rootfs, {});
        finish_rootfs(spec, rootfs, {});
        observe_usual_container(facts);
    });
    expect_usual_container(result, false);
    EXPECT_EQ(test::read_text(tmp.rootfs() + "/etc/secret-file"), "s") << "masking must not touch the image";
}

TEST_F(RootfsTest, UserNamespaceBindsDevicesAndKeepsLockedFlags) {
    Spec spec = usual_spec(true);
    const std::string locked = tmp.dir() + "/locked";
    std::filesystem::create_directory(locked);
    // "ro" alone would clear nosuid/nodev/noexec; the kernel locked them, so they must stay.
    spec.mounts.push_back(make_mount("/mnt/locked", "bind", locked, {"bind", "ro"}));
    const std::string rootfs = tmp.rootfs();
    RootfsOptions options;
    options.in_user_namespace = true;
    IsolationOptions isolation;
    isolation.user_namespace = true;
    isolation.locked_mount = locked;
    auto result = test::run_isolated(isolation, [&](Facts& facts) {
        prepare_rootfs(spec, rootfs, options);
        finish_rootfs(spec, rootfs, options);
        observe_usual_container(facts);
        facts.set("flags /mnt/locked", test::mount_flags("/mnt/locked"));
        facts.set("null is a mount", test::mountinfo_line("/dev/null").empty() ? "no" : "yes");
    });
    expect_usual_container(result, true);
    EXPECT_EQ(fact(result, "flags /mnt/locked"), "ro,nosuid,nodev,noexec");
    EXPECT_EQ(fact(result, "null is a mount"), "yes") << "in a user namespace devices are binds of the host's nodes";
}

} // namespace
} // namespace droplet
