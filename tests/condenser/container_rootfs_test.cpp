// The overlay a container runs on, mounted for real (root) in a private mount namespace of
// this test process, on a tmpfs so the host's own filesystem type does not matter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "container_bundle.hpp"
#include "container_rootfs.hpp"
#include "error.hpp"

namespace {

namespace fs = std::filesystem;
using condenser::OverlayRootfs;
using testing::HasSubstr;

std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

bool mounted(const fs::path& target) {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (mount_point == target.string())
            return true;
    }
    return false;
}

class Overlay : public testing::Test {
protected:
    static void SetUpTestSuite() {
        ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "unshare mount namespace (needs root)";
        ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
    }
    void SetUp() override {
        char pattern[] = "/tmp/raind-overlay-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "mode=0700"), 0);
        write(dir_ / "layers/bottom/etc/os", "bottom\n");
        write(dir_ / "layers/bottom/bin/tool", "tool\n");
        write(dir_ / "layers/top/etc/os", "top\n");
    }
    void TearDown() override {
        ::umount2(dir_.c_str(), MNT_DETACH);
        fs::remove_all(dir_);
    }
    std::vector<fs::path> layers() const { return {dir_ / "layers/top", dir_ / "layers/bottom"}; }
    fs::path dir_;
};

TEST_F(Overlay, TopLayerWinsWritesGoUpAndTheMountEndsWithTheObject) {
    fs::path rootfs = dir_ / "c/rootfs";
    {
        OverlayRootfs overlay(layers(), dir_ / "c/upper", dir_ / "c/work", rootfs);
        EXPECT_TRUE(mounted(rootfs));
        EXPECT_EQ(read(rootfs / "etc/os"), "top\n");
        EXPECT_EQ(read(rootfs / "bin/tool"), "tool\n");
        write(rootfs / "bin/tool", "changed\n");
        fs::remove(rootfs / "etc/os");
        EXPECT_EQ(read(dir_ / "c/upper/bin/tool"), "changed\n");
    }
    EXPECT_FALSE(mounted(rootfs));
    EXPECT_EQ(read(dir_ / "layers/bottom/bin/tool"), "tool\n");
    EXPECT_EQ(read(dir_ / "layers/top/etc/os"), "top\n");
}

TEST_F(Overlay, ReleasedMountStaysUntilUnmounted) {
    fs::path rootfs = dir_ / "c/rootfs";
    {
        OverlayRootfs overlay(layers(), dir_ / "c/upper", dir_ / "c/work", rootfs);
        overlay.release();
    }
    EXPECT_TRUE(mounted(rootfs));
    EXPECT_TRUE(condenser::unmount_rootfs(rootfs));
    EXPECT_FALSE(mounted(rootfs));
    EXPECT_FALSE(condenser::unmount_rootfs(rootfs));
}

TEST_F(Overlay, MissingLayerNamesTheTargetAndMountsNothing) {
    fs::path rootfs = dir_ / "c/rootfs";
    try {
        OverlayRootfs overlay({dir_ / "layers/gone"}, dir_ / "c/upper", dir_ / "c/work", rootfs);
        FAIL() << "mounted a missing layer";
    } catch (const raind::SystemError& e) {
        EXPECT_THAT(e.what(), HasSubstr(rootfs.string()));
    }
    EXPECT_FALSE(mounted(rootfs));
}

TEST_F(Overlay, SeparatorInAPathIsRefused) {
    write(dir_ / "layers/a:b/x", "x");
    EXPECT_THROW(OverlayRootfs({dir_ / "layers/a:b"}, dir_ / "c/upper", dir_ / "c/work", dir_ / "c/rootfs"),
                 raind::Error);
    EXPECT_FALSE(mounted(dir_ / "c/rootfs"));
}

const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST_F(Overlay, BundleHasConfigOnTheMountedRootfsAndGoesAwayWhole) {
    write(dir_ / "layers/bottom/etc/passwd", "root:x:0:0::/root:/bin/sh\nwww:x:33:34::/:/bin/false\n");
    raind::images::ImageConfig image;
    image.cmd = {"sh"};
    image.user = "www"; // looked up in the mounted rootfs
    auto bundle = condenser::create_bundle(dir_ / "containers", layers(), image, {id, {"echo", "hi"}, {}, {}});
    EXPECT_EQ(bundle, dir_ / "containers" / id);
    EXPECT_TRUE(mounted(bundle / "rootfs"));
    EXPECT_EQ(read(bundle / "rootfs/etc/os"), "top\n");
    auto config = nlohmann::json::parse(read(bundle / "config.json"));
    EXPECT_EQ(config["process"]["args"], nlohmann::json({"echo", "hi"}));
    EXPECT_EQ(config["process"]["user"]["uid"], 33);
    EXPECT_EQ(config["root"]["path"], "rootfs");

    condenser::remove_bundle(dir_ / "containers", id);
    EXPECT_FALSE(mounted(bundle / "rootfs"));
    EXPECT_FALSE(fs::exists(bundle));
    EXPECT_EQ(read(dir_ / "layers/bottom/bin/tool"), "tool\n");
    condenser::remove_bundle(dir_ / "containers", id); // already gone: fine
}

TEST_F(Overlay, BadRequestLeavesNoBundleAndNoMount) {
    raind::images::ImageConfig no_command;
    try {
        condenser::create_bundle(dir_ / "containers", layers(), no_command, {id, {}, {}, {}});
        FAIL() << "bundle without a command";
    } catch (const condenser::InvalidContainerArgument& e) {
        EXPECT_THAT(e.what(), HasSubstr("no command given"));
    }
    EXPECT_FALSE(mounted(dir_ / "containers" / id / "rootfs"));
    EXPECT_FALSE(fs::exists(dir_ / "containers" / id));
    EXPECT_THROW(condenser::create_bundle(dir_ / "containers", layers(), no_command, {"../x", {"sh"}, {}, {}}),
                 condenser::InvalidContainerArgument);
    EXPECT_THROW(condenser::remove_bundle(dir_ / "containers", ".."), condenser::InvalidContainerArgument);
    EXPECT_TRUE(fs::exists(dir_ / "layers/top/etc/os"));
}

} // namespace
