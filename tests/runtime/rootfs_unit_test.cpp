// Option parsing and config validation for the rootfs: no privileges needed.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "devices.hpp"
#include "error.hpp"
#include "mount_options.hpp"
#include "rootfs.hpp"
#include "safe_path.hpp"
#include "sysctl.hpp"

namespace droplet {
namespace {

using ::testing::HasSubstr;

std::string validation_error(const Spec& spec) {
    try {
        validate_rootfs(spec);
    } catch (const raind::Error& e) {
        return e.what();
    }
    return "";
}

Mount make_mount(std::string destination, std::string type, std::string source, std::vector<std::string> options = {}) {
    Mount mount;
    mount.destination = std::move(destination);
    mount.type = std::move(type);
    mount.source = std::move(source);
    mount.options = std::move(options);
    return mount;
}

Spec spec_with_mounts(std::vector<Mount> mounts) {
    Spec spec;
    spec.mounts = std::move(mounts);
    return spec;
}

TEST(MountOptions, FlagsFromTheSpecTable) {
    auto options = parse_mount_options({"nosuid", "nodev", "noexec", "ro", "sync", "dirsync", "mand", "nodiratime", "lazytime", "nosymfollow"});
    EXPECT_EQ(options.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_SYNCHRONOUS | MS_DIRSYNC |
                                                        MS_MANDLOCK | MS_NODIRATIME | MS_LAZYTIME | MS_NOSYMFOLLOW));
    EXPECT_TRUE(options.data.empty());
    EXPECT_FALSE(options.is_bind());
}

TEST(MountOptions, LaterOptionsOverrideEarlierOnes) {
    auto options = parse_mount_options({"ro", "nosuid", "rw", "suid", "dev", "exec", "async", "nomand", "diratime", "defaults"});
    EXPECT_EQ(options.flags, 0UL);
    EXPECT_EQ(options.clear_flags & MS_RDONLY, static_cast<unsigned long>(MS_RDONLY));
    EXPECT_EQ(options.clear_flags & MS_NOSUID, static_cast<unsigned long>(MS_NOSUID));
}

TEST(MountOptions, AtimeIsOneMode) {
    EXPECT_EQ(parse_mount_options({"noatime", "strictatime"}).flags, static_cast<unsigned long>(MS_STRICTATIME));
    EXPECT_EQ(parse_mount_options({"strictatime", "relatime"}).flags, static_cast<unsigned long>(MS_RELATIME));
    EXPECT_EQ(parse_mount_options({"noatime", "atime"}).flags, 0UL);
    EXPECT_TRUE(parse_mount_options({"atime"}).atime_given);
    EXPECT_FALSE(parse_mount_options({"ro"}).atime_given);
}

TEST(MountOptions, BindAndRbind) {
    EXPECT_TRUE(parse_mount_options({"bind"}).is_bind());
    EXPECT_FALSE(parse_mount_options({"bind"}).is_recursive_bind());
    EXPECT_TRUE(parse_mount_options({"rbind"}).is_recursive_bind());
    EXPECT_TRUE(parse_mount_options({"rbind", "bind"}).is_recursive_bind());
}

TEST(MountOptions, PropagationKeepsOrderAndRecursion) {
    auto options = parse_mount_options({"rshared", "slave", "runbindable", "private", "rprivate", "shared", "rslave", "unbindable"});
    EXPECT_THAT(options.propagation,
                ::testing::ElementsAre(MS_SHARED | MS_REC, MS_SLAVE, MS_UNBINDABLE | MS_REC, MS_PRIVATE, MS_PRIVATE | MS_REC,
                                       MS_SHARED, MS_SLAVE | MS_REC, MS_UNBINDABLE));
    EXPECT_EQ(options.flags, 0UL) << "propagation must not leak into the mount(2) flags";
}

TEST(MountOptions, RecursiveAttributes) {
    auto options = parse_mount_options({"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"});
    EXPECT_EQ(options.recursive_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                                           MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
    EXPECT_EQ(options.recursive_clear, 0U);
    EXPECT_EQ(options.flags, 0UL);

    auto cleared = parse_mount_options({"rro", "rrw", "rsuid"});
    EXPECT_EQ(cleared.recursive_set, 0U);
    EXPECT_EQ(cleared.recursive_clear, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));

    // The kernel wants the whole atime mask cleared whenever an atime mode is set.
    auto atime = parse_mount_options({"rnoatime"});
    EXPECT_EQ(atime.recursive_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
    EXPECT_EQ(atime.recursive_clear, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
    EXPECT_EQ(parse_mount_options({"rnoatime", "rstrictatime"}).recursive_set, static_cast<uint64_t>(MOUNT_ATTR_STRICTATIME));
}

TEST(MountOptions, UnknownOptionsBecomeFilesystemData) {
    auto options = parse_mount_options({"nosuid", "size=65536k", "mode=755", "tmpcopyup", "newinstance"});
    EXPECT_EQ(options.data, "size=65536k,mode=755,newinstance");
    EXPECT_TRUE(options.tmpcopyup);
    EXPECT_EQ(options.flags, static_cast<unsigned long>(MS_NOSUID));
}

TEST(MountOptions, IdmapIsRefusedClearly) {
    for (const char* option : {"idmap", "ridmap"}) {
        try {
            parse_mount_options({"bind", option});
            ADD_FAILURE() << option << " was accepted";
        } catch (const raind::Error& e) {
            EXPECT_THAT(e.what(), HasSubstr("not supported"));
            EXPECT_THAT(e.what(), HasSubstr(option));
        }
    }
}

TEST(MountOptions, RootfsPropagationNames) {
    EXPECT_EQ(propagation_flags("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
    EXPECT_EQ(propagation_flags("private"), static_cast<unsigned long>(MS_PRIVATE));
    EXPECT_EQ(propagation_flags("sideways"), 0UL);
}

TEST(SafePath, CleanAbsolutePath) {
    EXPECT_EQ(clean_absolute_path("/a/./b//c/../d/"), "/a/b/d");
    EXPECT_EQ(clean_absolute_path("/"), "/");
    EXPECT_EQ(clean_absolute_path("/a/.."), "/");
    EXPECT_EQ(clean_absolute_path("/../etc"), std::nullopt);
    EXPECT_EQ(clean_absolute_path("/a/../../etc"), std::nullopt);
}

TEST(ValidateRootfs, AcceptsTheDefaultSpecMounts) {
    Spec spec = spec_with_mounts({
        make_mount("/proc", "proc", "proc"),
        make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        make_mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        make_mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        make_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        make_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        make_mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
        make_mount("/etc/hosts", "", "/etc/hosts", {"rbind", "ro"}),
        make_mount("/a/../b", "bind", "/tmp"),
    });
    spec.linux.masked_paths = {"/proc/kcore", "/proc/acpi"};
    spec.linux.readonly_paths = {"/proc/sys"};
    spec.linux.rootfs_propagation = "rprivate";
    EXPECT_EQ(validation_error(spec), "");
}

TEST(ValidateRootfs, DestinationEscapingTheRootfsNamesTheMount) {
    Spec spec = spec_with_mounts({make_mount("/proc", "proc", "proc"), make_mount("/tmp", "tmpfs", "tmpfs"),
                                  make_mount("/dev", "tmpfs", "tmpfs"), make_mount("/../../etc", "bind", "/etc", {"bind"})});
    EXPECT_EQ(validation_error(spec), "config.json: mounts[3].destination \"/../../etc\": escapes the container's root filesystem");
}

TEST(ValidateRootfs, RelativeDestinationIsRefused) {
    EXPECT_EQ(validation_error(spec_with_mounts({make_mount("tmp", "tmpfs", "tmpfs")})),
              "config.json: mounts[0].destination \"tmp\": must be an absolute path");
    EXPECT_THAT(validation_error(spec_with_mounts({make_mount("", "tmpfs", "tmpfs")})), HasSubstr("mounts[0].destination"));
}

TEST(ValidateRootfs, OtherBadMounts) {
    EXPECT_THAT(validation_error(spec_with_mounts({make_mount("/", "tmpfs", "tmpfs")})), HasSubstr("container's root"));
    EXPECT_THAT(validation_error(spec_with_mounts({make_mount("/proc/self/attr", "tmpfs", "tmpfs")})),
                HasSubstr("mounts[0].destination \"/proc/self/attr\": mounting over files in /proc"));
    EXPECT_THAT(validation_error(spec_with_mounts({make_mount("/x", "", "/tmp")})), HasSubstr("mounts[0].type: missing"));
    EXPECT_THAT(validation_error(spec_with_mounts({make_mount("/x", "none", "", {"rbind"})})), HasSubstr("mounts[0].source"));
    EXPECT_THAT(validation_error(spec_with_mounts({make_mount("/x", "none", "/tmp", {"rbind", "idmap"})})),
                HasSubstr("mounts[0].options: option \"idmap\": id-mapped mounts are not supported"));
    Mount idmapped = make_mount("/x", "none", "/tmp", {"rbind"});
    idmapped.has_id_mappings = true;
    EXPECT_THAT(validation_error(spec_with_mounts({idmapped})), HasSubstr("mounts[0]: uidMappings/gidMappings"));
    // lxcfs-style files are the exception under /proc
    EXPECT_EQ(validation_error(spec_with_mounts({make_mount("/proc/meminfo", "bind", "/proc/meminfo", {"bind"})})), "");
}

TEST(ValidateRootfs, MaskedReadonlyPathsPropagationAndDevices) {
    Spec masked;
    masked.linux.masked_paths = {"/proc/kcore", "proc/acpi"};
    EXPECT_EQ(validation_error(masked), "config.json: linux.maskedPaths[1] \"proc/acpi\": must be an absolute path");
    Spec readonly;
    readonly.linux.readonly_paths = {"/../proc/sys"};
    EXPECT_EQ(validation_error(readonly), "config.json: linux.readonlyPaths[0] \"/../proc/sys\": escapes the container's root filesystem");
    Spec propagation;
    propagation.linux.rootfs_propagation = "sideways";
    EXPECT_THAT(validation_error(propagation), HasSubstr("linux.rootfsPropagation \"sideways\": unknown"));
    Spec device;
    device.linux.devices.push_back(Device{"/dev/../../fuse", 'c', 10, 229, 0666, 0, 0});
    EXPECT_THAT(validation_error(device), HasSubstr("linux.devices[0].path \"/dev/../../fuse\": escapes"));
    device.linux.devices[0] = Device{"/dev/fuse", 'x', 10, 229, 0666, 0, 0};
    EXPECT_THAT(validation_error(device), HasSubstr("linux.devices[0].type \"x\""));
}

TEST(Sysctl, NamesAndNamespaces) {
    EXPECT_THAT(sysctl_components("net.ipv4.ip_forward"), ::testing::ElementsAre("net", "ipv4", "ip_forward"));
    EXPECT_THAT(sysctl_components("net/ipv4/conf/eth0.1/forwarding"), ::testing::ElementsAre("net", "ipv4", "conf", "eth0.1", "forwarding"));
    EXPECT_THROW(sysctl_components("net/../../etc"), raind::Error);
    EXPECT_THROW(sysctl_components("net..x"), raind::Error);

    Spec spec;
    spec.linux.sysctl = {{"net.ipv4.ip_forward", "1"}};
    EXPECT_EQ(validation_error(spec), "config.json: linux.sysctl \"net.ipv4.ip_forward\": needs the container's own network namespace "
                                      "(linux.namespaces), refusing to change the host's value");
    spec.linux.namespaces.push_back(Namespace{"network", ""});
    EXPECT_EQ(validation_error(spec), "");
    spec.linux.sysctl = {{"vm.swappiness", "10"}};
    EXPECT_THAT(validation_error(spec), HasSubstr("linux.sysctl \"vm.swappiness\": not isolated by any namespace"));
    spec.linux.sysctl = {{"kernel.shmmax", "1000"}};
    EXPECT_THAT(validation_error(spec), HasSubstr("own ipc namespace"));
    spec.linux.namespaces.push_back(Namespace{"ipc", ""});
    spec.linux.sysctl = {{"kernel.shmmax", "1000"}, {"fs.mqueue.msg_max", "20"}};
    EXPECT_EQ(validation_error(spec), "");
    spec.linux.sysctl = {{"net/../kernel/core_pattern", "|/evil"}};
    EXPECT_THAT(validation_error(spec), HasSubstr("not a sysctl name"));
}

TEST(Devices, SpecDevicesMergeWithTheDefaults) {
    Spec spec;
    spec.linux.devices.push_back(Device{"/dev/null", 'c', 1, 3, 0600, 1000, 1000});
    spec.linux.devices.push_back(Device{"/dev/fuse", 'c', 10, 229, 0666, 0, 0});
    auto devices = container_devices(spec);
    ASSERT_EQ(devices.size(), 7U);
    EXPECT_EQ(devices[0].path, "/dev/null");
    EXPECT_EQ(devices[0].file_mode, 0600U);
    EXPECT_EQ(devices[0].uid, 1000U);
    EXPECT_EQ(devices[6].path, "/dev/fuse");

    EXPECT_TRUE(needs_dev_setup(spec));
    spec.mounts.push_back(make_mount("/dev", "bind", "/dev", {"rbind"}));
    EXPECT_FALSE(needs_dev_setup(spec)) << "a bind of the host's /dev is used as it is";
}


// Resolution inside a root needs no privileges: a plain temp directory plays the rootfs.
class ResolveInRoot : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/droplet-safe-path-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir = pattern;
        root = dir + "/root";
        outside = dir + "/outside";
        std::filesystem::create_directories(root + "/etc");
        std::filesystem::create_directories(outside);
        root_fd = raind::UniqueFd(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_fd);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    // Where an O_PATH fd really points, as the kernel sees it.
    static std::string where(const raind::UniqueFd& fd) {
        return std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd.get())).string();
    }

    std::string dir, root, outside;
    raind::UniqueFd root_fd;
};

TEST_F(ResolveInRoot, AbsoluteSymlinkStaysInside) {
    std::filesystem::create_directory_symlink(outside, root + "/mnt");
    auto fd = create_in_root(root_fd.get(), "/mnt/sub", CreateKind::directory);
    EXPECT_EQ(where(fd), root + outside + "/sub");
    EXPECT_TRUE(std::filesystem::is_empty(outside)) << "created on the host";
}

TEST_F(ResolveInRoot, DotDotClimbsNoHigherThanTheRoot) {
    std::filesystem::create_directory_symlink("../../../../../..", root + "/up");
    auto fd = create_in_root(root_fd.get(), "/up/../../etc/../made", CreateKind::directory);
    EXPECT_EQ(where(fd), root + "/made");
    auto existing = open_in_root(root_fd.get(), "/up/../../etc", O_PATH);
    ASSERT_TRUE(existing);
    EXPECT_EQ(where(existing), root + "/etc");
}

TEST_F(ResolveInRoot, DanglingRelativeSymlinkAndFiles) {
    std::filesystem::create_symlink("../var/lib/data.conf", root + "/etc/data.conf");
    auto fd = create_in_root(root_fd.get(), "/etc/data.conf", CreateKind::file);
    EXPECT_EQ(where(fd), root + "/var/lib/data.conf");
    EXPECT_TRUE(std::filesystem::is_regular_file(root + "/var/lib/data.conf"));
}

TEST_F(ResolveInRoot, SymlinkLoopIsAnError) {
    std::filesystem::create_symlink("b", root + "/a");
    std::filesystem::create_symlink("a", root + "/b");
    try {
        create_in_root(root_fd.get(), "/a/x", CreateKind::directory);
        ADD_FAILURE() << "a symlink loop was resolved";
    } catch (const raind::SystemError& e) {
        EXPECT_EQ(e.code(), ELOOP);
        EXPECT_THAT(e.what(), HasSubstr("/a/x"));
    }
}

TEST_F(ResolveInRoot, MissingPathIsEmptyNotAnError) {
    EXPECT_FALSE(open_in_root(root_fd.get(), "/no/such/path", O_PATH));
}

} // namespace
} // namespace droplet
