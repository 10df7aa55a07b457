// The rootfs as the container's init builds it, checked from inside real namespaces (needs root).
#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

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


// Only what these tests need: a proc for sysctls and masking, a tmpfs /dev for the devices.
Spec minimal_spec() {
    Spec spec;
    spec.mounts = {make_mount("/proc", "proc", "proc"), make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"})};
    for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        spec.linux.namespaces.push_back(Namespace{type, ""});
    return spec;
}

std::string stat_text(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) < 0)
        return "missing";
    char text[32];
    std::snprintf(text, sizeof text, "%04o", st.st_mode & 07777);
    return text;
}

TEST_F(RootfsTest, SymlinksInTheImageCannotAimAMountAtTheHost) {
    // An absolute symlink, a relative one climbing far above "/", and a dangling one whose
    // target exists only on the host: all must land inside the rootfs.
    const std::string host_dir = tmp.dir() + "/hostdir";
    std::filesystem::create_directories(host_dir);
    write_file(host_dir + "/marker", "host");
    const std::string inside = host_dir; // the same absolute path, looked up inside the rootfs
    std::filesystem::create_directory_symlink(inside, tmp.rootfs() + "/mnt");
    std::filesystem::create_directory_symlink("../../../../../../../../.." + inside, tmp.rootfs() + "/climb");
    std::filesystem::create_symlink("/etc/dangling/deeper", tmp.rootfs() + "/etc/link");
    Spec spec = minimal_spec();
    spec.mounts.push_back(make_mount("/mnt", "tmpfs", "tmpfs", {"size=1m"}));
    spec.mounts.push_back(make_mount("/climb/sub", "tmpfs", "tmpfs", {"size=1m"}));
    spec.mounts.push_back(make_mount("/etc/link/x", "tmpfs", "tmpfs", {"size=1m"}));
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        prepare_rootfs(spec, rootfs, {});
        facts.set("host dir type", test::fs_type(host_dir));
        facts.set("host marker", test::read_text(host_dir + "/marker"));
        facts.set("rootfs dir type", test::fs_type(rootfs + inside));
        facts.set("rootfs sub type", test::fs_type(rootfs + inside + "/sub"));
        facts.set("dangling type", test::fs_type(rootfs + "/etc/dangling/deeper/x"));
        finish_rootfs(spec, rootfs, {});
        facts.set("inside /mnt", test::fs_type("/mnt"));
        facts.set("inside /climb/sub", test::fs_type("/climb/sub"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_EQ(fact(result, "host dir type"), "ext4") << "the host directory must not be mounted over";
    EXPECT_EQ(fact(result, "host marker"), "host");
    EXPECT_EQ(fact(result, "rootfs dir type"), "tmpfs");
    EXPECT_EQ(fact(result, "rootfs sub type"), "tmpfs");
    EXPECT_EQ(fact(result, "dangling type"), "tmpfs") << "a dangling symlink's target is created inside";
    EXPECT_EQ(fact(result, "inside /mnt"), "tmpfs");
    EXPECT_EQ(fact(result, "inside /climb/sub"), "tmpfs");
    EXPECT_TRUE(std::filesystem::is_directory(tmp.rootfs() + "/etc/dangling/deeper/x"));
    EXPECT_FALSE(std::filesystem::exists("/etc/dangling")) << "created on the host";
}

TEST_F(RootfsTest, BindAndTmpfsOptions) {
    // A host tree with a submount: "rbind,ro" makes only the top read-only, "rro" all of it.
    const std::string source = tmp.dir() + "/source";
    std::filesystem::create_directories(source + "/sub");
    write_file(source + "/file.txt", "content");
    Spec spec = minimal_spec();
    spec.mounts.push_back(make_mount("/top-ro", "bind", source, {"rbind", "ro", "nosuid"}));
    spec.mounts.push_back(make_mount("/all-ro", "none", source, {"rbind", "rro", "noexec"}));
    spec.mounts.push_back(make_mount("/plain", "bind", source, {"bind"}));
    spec.mounts.push_back(make_mount("/noatime", "bind", source, {"bind", "noatime", "nodev"}));
    spec.mounts.push_back(make_mount("/etc/bound-file", "bind", source + "/file.txt", {"bind", "ro"}));
    spec.mounts.push_back(make_mount("/scratch", "tmpfs", "tmpfs", {"size=1m", "mode=700", "nodev", "noexec"}));
    spec.mounts.push_back(make_mount("/run/shared", "tmpfs", "tmpfs", {"size=1m", "rshared"}));
    spec.mounts.push_back(make_mount("/run/unbindable", "tmpfs", "tmpfs", {"size=1m", "unbindable"}));
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        // The submount exists only in this mount namespace; prepare_rootfs makes "/" rslave
        // first, but here it is mounted before, so make it private to keep the host clean.
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
            mount("tmpfs", (source + "/sub").c_str(), "tmpfs", 0, "size=1m") < 0)
            throw std::runtime_error("submount");
        prepare_rootfs(spec, rootfs, {});
        finish_rootfs(spec, rootfs, {});
        for (const char* path : {"/top-ro", "/top-ro/sub", "/all-ro", "/all-ro/sub", "/plain", "/noatime", "/etc/bound-file", "/scratch"})
            facts.set(std::string("flags ") + path, test::mount_flags(path));
        facts.set("bound file", test::read_text("/etc/bound-file"));
        facts.set("plain sub", test::fs_type("/plain/sub"));
        facts.set("write /top-ro/sub", test::write_result("/top-ro/sub/x"));
        facts.set("write /all-ro/sub", test::write_result("/all-ro/sub/x"));
        struct statvfs st {};
        statvfs("/scratch", &st);
        facts.set("scratch bytes", std::to_string(st.f_blocks * st.f_frsize));
        facts.set("scratch mode", stat_text("/scratch"));
        facts.set("shared", test::mountinfo_line("/run/shared"));
        facts.set("unbindable", test::mountinfo_line("/run/unbindable"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_EQ(fact(result, "flags /top-ro"), "ro,nosuid");
    EXPECT_EQ(fact(result, "flags /top-ro/sub"), "") << "plain ro applies to the top mount only";
    EXPECT_EQ(fact(result, "write /top-ro/sub"), "ok");
    EXPECT_EQ(fact(result, "flags /all-ro"), "ro,noexec");
    EXPECT_EQ(fact(result, "flags /all-ro/sub"), "ro");
    EXPECT_EQ(fact(result, "write /all-ro/sub"), "Read-only file system");
    EXPECT_EQ(fact(result, "flags /plain"), "");
    EXPECT_EQ(fact(result, "flags /noatime"), "nodev,noatime");
    EXPECT_EQ(fact(result, "plain sub"), "ext4") << "a plain bind does not bring submounts";
    EXPECT_EQ(fact(result, "flags /etc/bound-file"), "ro");
    EXPECT_EQ(fact(result, "bound file"), "content");
    EXPECT_EQ(fact(result, "flags /scratch"), "nodev,noexec");
    EXPECT_EQ(fact(result, "scratch bytes"), std::to_string(1024 * 1024));
    EXPECT_EQ(fact(result, "scratch mode"), "0700");
    EXPECT_THAT(fact(result, "shared"), HasSubstr(" shared:"));
    EXPECT_THAT(fact(result, "unbindable"), HasSubstr(" unbindable "));
    EXPECT_FALSE(std::filesystem::exists(source + "/x")) << "writes through the ro binds reached the source";
}

TEST_F(RootfsTest, RootPropagationReadonlyRootAndSysctls) {
    Spec spec = minimal_spec();
    spec.linux.rootfs_propagation = "rshared";
    spec.root.readonly = true;
    spec.linux.sysctl = {{"net.ipv4.ip_forward", "1"},
                         {"net.ipv4.ip_unprivileged_port_start", "1234"},
                         {"kernel.shmmax", "123456789"},
                         {"kernel.hostname", "from-sysctl"}};
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        validate_rootfs(spec);
        prepare_rootfs(spec, rootfs, {});
        finish_rootfs(spec, rootfs, {});
        facts.set("root", test::mountinfo_line("/"));
        facts.set("write /", test::write_result("/new-file"));
        facts.set("write /dev", test::write_result("/dev/new-file"));
        facts.set("ip_forward", test::read_text("/proc/sys/net/ipv4/ip_forward"));
        facts.set("port_start", test::read_text("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
        facts.set("shmmax", test::read_text("/proc/sys/kernel/shmmax"));
        facts.set("hostname", test::read_text("/proc/sys/kernel/hostname"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_THAT(fact(result, "root"), HasSubstr(" shared:")) << "rootfsPropagation applies to the container's /";
    EXPECT_THAT(fact(result, "root"), HasSubstr(" ro,"));
    EXPECT_EQ(fact(result, "write /"), "Read-only file system");
    EXPECT_EQ(fact(result, "write /dev"), "ok") << "root.readonly covers / only, not its submounts";
    EXPECT_EQ(fact(result, "ip_forward"), "1\n");
    EXPECT_EQ(fact(result, "shmmax"), "123456789\n");
    EXPECT_EQ(fact(result, "hostname"), "from-sysctl\n");
    EXPECT_EQ(fact(result, "port_start"), "1234\n");
    // A value no other test would write, so parallel tests cannot make this flaky.
    EXPECT_NE(test::read_text("/proc/sys/net/ipv4/ip_unprivileged_port_start"), "1234\n") << "the host's value changed";
    EXPECT_NE(test::read_text("/proc/sys/kernel/shmmax"), "123456789\n") << "the host's value changed";
    EXPECT_FALSE(std::filesystem::exists(tmp.rootfs() + "/new-file"));
}

TEST_F(RootfsTest, RootPropagationSlaveByDefaultPrivateOrUnbindableOnRequest) {
    Spec spec = minimal_spec();
    const std::string rootfs = tmp.rootfs();
    auto observe_root = [&](const Spec& with) {
        return test::run_isolated({}, [&](Facts& facts) {
            // Make / shared with a peer in another mount namespace (the harness's parent
            // process holds the first one), so the container's / has a master to follow.
            if (mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) < 0 || unshare(CLONE_NEWNS) < 0)
                throw std::runtime_error("make / shared");
            prepare_rootfs(with, rootfs, {});
            finish_rootfs(with, rootfs, {});
            facts.set("root", test::mountinfo_line("/"));
        });
    };
    auto slave = observe_root(spec);
    ASSERT_EQ(error_of(slave), "");
    EXPECT_THAT(fact(slave, "root"), HasSubstr(" master:"));
    EXPECT_THAT(fact(slave, "root"), ::testing::Not(HasSubstr(" shared:")));
    spec.linux.rootfs_propagation = "rprivate";
    auto private_root = observe_root(spec);
    ASSERT_EQ(error_of(private_root), "");
    EXPECT_THAT(fact(private_root, "root"), ::testing::Not(HasSubstr("master:")));
    EXPECT_THAT(fact(private_root, "root"), ::testing::Not(HasSubstr("shared:")));
    spec.linux.rootfs_propagation = "runbindable";
    auto unbindable = observe_root(spec);
    ASSERT_EQ(error_of(unbindable), "");
    EXPECT_THAT(fact(unbindable, "root"), HasSubstr(" unbindable "));
}

TEST_F(RootfsTest, NoPivotMovesTheRootfsAndChroots) {
    Spec spec = minimal_spec();
    spec.linux.masked_paths = {"/proc/timer_list"};
    const std::string rootfs = tmp.rootfs();
    RootfsOptions options;
    options.no_pivot = true;
    auto result = test::run_isolated({}, [&](Facts& facts) {
        prepare_rootfs(spec, rootfs, options);
        finish_rootfs(spec, rootfs, options);
        facts.set("busybox", access("/bin/busybox", X_OK) == 0 ? "yes" : "no");
        facts.set("hostname file", test::read_text("/etc/hostname"));
        facts.set("test dir visible", access(rootfs.c_str(), F_OK) == 0 ? "yes" : "no");
        facts.set("timer_list", test::read_text("/proc/timer_list"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_EQ(fact(result, "busybox"), "yes");
    EXPECT_EQ(fact(result, "hostname file"), "image\n");
    EXPECT_EQ(fact(result, "test dir visible"), "no");
    EXPECT_EQ(fact(result, "timer_list"), "");
}

TEST_F(RootfsTest, TmpcopyupAndConsole) {
    write_file(tmp.rootfs() + "/var/cache/app/data", "from the image");
    std::filesystem::create_symlink("data", tmp.rootfs() + "/var/cache/app/link");
    Spec spec = minimal_spec();
    spec.mounts.push_back(make_mount("/var/cache", "tmpfs", "tmpfs", {"tmpcopyup", "size=1m"}));
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
            throw std::runtime_error("openpt");
        RootfsOptions options;
        options.console_path = ptsname(master);
        struct stat pty {};
        stat(options.console_path.c_str(), &pty);
        prepare_rootfs(spec, rootfs, options);
        finish_rootfs(spec, rootfs, options);
        facts.set("type", test::fs_type("/var/cache"));
        facts.set("data", test::read_text("/var/cache/app/data"));
        facts.set("link", test::link_target("/var/cache/app/link"));
        facts.set("write", test::write_result("/var/cache/app/data"));
        struct stat console {};
        stat("/dev/console", &console);
        facts.set("console is the pty", console.st_rdev == pty.st_rdev && S_ISCHR(console.st_mode) ? "yes" : "no");
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_EQ(fact(result, "type"), "tmpfs");
    EXPECT_EQ(fact(result, "data"), "from the image");
    EXPECT_EQ(fact(result, "link"), "data");
    EXPECT_EQ(fact(result, "write"), "ok");
    EXPECT_EQ(fact(result, "console is the pty"), "yes");
    EXPECT_EQ(test::read_text(tmp.rootfs() + "/var/cache/app/data"), "from the image") << "the image changed";
}

TEST_F(RootfsTest, FailuresNameWhatFailedAndLeaveNoHostMount) {
    const std::string rootfs = tmp.rootfs();
    auto error_for = [&](const Spec& spec) {
        auto result = test::run_isolated({}, [&](Facts&) {
            prepare_rootfs(spec, rootfs, {});
            finish_rootfs(spec, rootfs, {});
        });
        EXPECT_NE(result.status, 0);
        return error_of(result);
    };
    Spec missing_source = minimal_spec();
    missing_source.mounts.push_back(make_mount("/data", "bind", "/nonexistent/source", {"bind"}));
    EXPECT_EQ(error_for(missing_source), "bind-mount /nonexistent/source on /data (in " + rootfs + "): No such file or directory");

    Spec bad_fs = minimal_spec();
    bad_fs.mounts.push_back(make_mount("/data", "nosuchfs", "none"));
    EXPECT_EQ(error_for(bad_fs), "mount nosuchfs on /data (in " + rootfs + "): No such device");

    // A symlink in the image steering a later mount into the container's /proc.
    std::filesystem::create_directory_symlink("/proc/self", tmp.rootfs() + "/self");
    Spec into_proc = minimal_spec();
    into_proc.mounts.push_back(make_mount("/self/attr", "tmpfs", "tmpfs"));
    EXPECT_EQ(error_for(into_proc), "mounts[2].destination \"/self/attr\": resolves into /proc, refusing to mount over it");

    Spec bad_sysctl = minimal_spec();
    bad_sysctl.linux.sysctl = {{"net.ipv4.no_such_key", "1"}};
    EXPECT_THAT(error_for(bad_sysctl), HasSubstr("linux.sysctl \"net.ipv4.no_such_key\": open /proc/sys/net/ipv4/no_such_key"));
}


TEST_F(RootfsTest, CgroupWithoutACgroupNamespaceBindsTheContainersOwnCgroup) {
    // Without a cgroup namespace a fresh cgroup2 mount would show the host's whole tree.
    std::string unified;
    for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
        if (test::fs_type(candidate) == "cgroup2")
            unified = candidate;
    if (unified.empty())
        GTEST_SKIP() << "no cgroup2 hierarchy mounted";
    const std::string own = unified + "/droplet-rootfs-test-" + std::to_string(getpid());
    ASSERT_EQ(mkdir(own.c_str(), 0755), 0);
    Spec spec = minimal_spec();
    std::erase_if(spec.linux.namespaces, [](const Namespace& ns) { return ns.type == "cgroup"; });
    spec.mounts.push_back(make_mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "ro"}));
    const std::string rootfs = tmp.rootfs();
    IsolationOptions isolation;
    isolation.cgroup_namespace = false;
    auto result = test::run_isolated(isolation, [&](Facts& facts) {
        std::ofstream(own + "/cgroup.procs") << "0\n";
        struct stat expected {};
        stat(own.c_str(), &expected);
        prepare_rootfs(spec, rootfs, {});
        finish_rootfs(spec, rootfs, {});
        struct stat seen {};
        stat("/sys/fs/cgroup", &seen);
        facts.set("same directory", seen.st_ino == expected.st_ino && seen.st_dev == expected.st_dev ? "yes" : "no");
        facts.set("type", test::fs_type("/sys/fs/cgroup"));
        facts.set("flags", test::mount_flags("/sys/fs/cgroup"));
        facts.set("procs", test::read_text("/sys/fs/cgroup/cgroup.procs"));
    });
    rmdir(own.c_str());
    ASSERT_EQ(error_of(result), "");
    EXPECT_EQ(fact(result, "same directory"), "yes");
    EXPECT_EQ(fact(result, "type"), "cgroup2");
    EXPECT_EQ(fact(result, "flags"), "ro,nosuid,nodev,noexec");
    EXPECT_EQ(fact(result, "procs"), "1\n") << "only the container's init is in its cgroup";
}


TEST_F(RootfsTest, SysfsInAUserNamespaceWithoutItsOwnNetworkIsTheHostsBoundReadOnly) {
    // The kernel refuses a fresh sysfs to a user namespace that does not own the network
    // namespace; droplet then binds the host's /sys (runc does the same).
    Spec spec = minimal_spec();
    spec.mounts.push_back(make_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
    const std::string rootfs = tmp.rootfs();
    RootfsOptions options;
    options.in_user_namespace = true;
    IsolationOptions isolation;
    isolation.user_namespace = true;
    isolation.network_namespace = false;
    auto result = test::run_isolated(isolation, [&](Facts& facts) {
        prepare_rootfs(spec, rootfs, options);
        finish_rootfs(spec, rootfs, options);
        facts.set("type", test::fs_type("/sys"));
        facts.set("flags", test::mount_flags("/sys"));
        facts.set("kernel dir", access("/sys/kernel", F_OK) == 0 ? "yes" : "no");
        facts.set("below /sys/fs/cgroup", test::fs_type("/sys/fs/cgroup"));
        facts.set("write", test::write_result("/sys/kernel/new"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_EQ(fact(result, "type"), "sysfs");
    EXPECT_EQ(fact(result, "flags"), "ro,nosuid,nodev,noexec");
    EXPECT_EQ(fact(result, "kernel dir"), "yes");
    EXPECT_NE(fact(result, "below /sys/fs/cgroup"), "sysfs") << "the host's submounts come with the bind";
    EXPECT_EQ(fact(result, "write"), "Read-only file system");
}


TEST_F(RootfsTest, ReadOnlyDevStillGetsItsDevices) {
    Spec spec = minimal_spec();
    spec.mounts[1] = make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755", "ro"});
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        prepare_rootfs(spec, rootfs, {});
        finish_rootfs(spec, rootfs, {});
        facts.set("null", test::device_node("/dev/null"));
        facts.set("flags", test::mount_flags("/dev"));
        facts.set("write", test::write_result("/dev/new"));
        facts.set("write null", test::write_result("/dev/null"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_THAT(fact(result, "null"), StartsWith("c 1:3 0666"));
    EXPECT_EQ(fact(result, "flags"), "ro,nosuid");
    EXPECT_EQ(fact(result, "write"), "Read-only file system");
    EXPECT_EQ(fact(result, "write null"), "ok") << "a device on a read-only mount is still writable";
}


TEST_F(RootfsTest, NonRecursivePropagationOverASharedMountHoldingTheRootfs) {
    // "private" changes "/" only; the rootfs sits in a shared mount of its own (as under a
    // shared /var/lib), which pivot_root would refuse as the new root's parent.
    Spec spec = minimal_spec();
    spec.linux.rootfs_propagation = "private";
    const std::string rootfs = tmp.rootfs();
    auto result = test::run_isolated({}, [&](Facts& facts) {
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
            mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND, nullptr) < 0 ||
            mount(nullptr, rootfs.c_str(), nullptr, MS_SHARED, nullptr) < 0)
            throw std::runtime_error("shared holder mount");
        prepare_rootfs(spec, rootfs, {});
        finish_rootfs(spec, rootfs, {});
        facts.set("root", test::mountinfo_line("/"));
    });
    ASSERT_EQ(error_of(result), "");
    EXPECT_THAT(fact(result, "root"), ::testing::Not(HasSubstr("shared:")));
}


TEST_F(RootfsTest, ImageDevSymlinksDoNotSteerDeviceNodes) {
    // Without a /dev mount the image's own /dev gets the nodes: a symlink there must be
    // replaced, not followed onto another file of the image.
    write_file(tmp.rootfs() + "/etc/victim", "victim");
    write_file(tmp.rootfs() + "/etc/victim2", "victim2");
    Spec spec = minimal_spec();
    spec.mounts.pop_back(); // no /dev tmpfs
    const std::string rootfs = tmp.rootfs();
    for (bool user_namespace : {false, true}) {
        // mknod replaced them on disk in the first round: plant them again.
        std::filesystem::remove(tmp.rootfs() + "/dev/zero");
        std::filesystem::remove(tmp.rootfs() + "/dev/null");
        std::filesystem::create_symlink("/etc/victim", tmp.rootfs() + "/dev/zero");
        std::filesystem::create_symlink("/etc/victim2", tmp.rootfs() + "/dev/null");
        RootfsOptions options;
        options.in_user_namespace = user_namespace;
        IsolationOptions isolation;
        isolation.user_namespace = user_namespace;
        auto result = test::run_isolated(isolation, [&](Facts& facts) {
            prepare_rootfs(spec, rootfs, options);
            finish_rootfs(spec, rootfs, options);
            facts.set("victim", test::read_text("/etc/victim", 64));
            facts.set("victim2", test::read_text("/etc/victim2", 64));
            facts.set("zero", test::device_node("/dev/zero"));
        });
        ASSERT_EQ(error_of(result), "") << "user namespace: " << user_namespace;
        EXPECT_EQ(fact(result, "victim"), "victim") << "user namespace: " << user_namespace;
        EXPECT_EQ(fact(result, "victim2"), "victim2") << "user namespace: " << user_namespace;
        EXPECT_THAT(fact(result, "zero"), StartsWith("c 1:5 ")) << "user namespace: " << user_namespace;
    }
}

} // namespace
} // namespace droplet
