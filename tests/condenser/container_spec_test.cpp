// config.json of a container: Docker's rules for the command, environment and user, checked
// through droplet's own parser so the runtime accepts what condenser writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "container_spec.hpp"
#include "spec.hpp"

namespace {

using condenser::container_args;
using condenser::container_env;
using condenser::InvalidContainerArgument;
using raind::images::ImageConfig;
using testing::Contains;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Not;

const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

ImageConfig busybox_like() {
    ImageConfig image;
    image.cmd = {"sh"};
    image.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    return image;
}

TEST(ContainerArgs, CommandReplacesCmdAndKeepsEntrypoint) {
    ImageConfig image = busybox_like();
    EXPECT_THAT(container_args(image, {"echo", "hi"}), ElementsAre("echo", "hi"));
    EXPECT_THAT(container_args(image, {}), ElementsAre("sh"));
    image.entrypoint = {"/bin/tini", "--"};
    EXPECT_THAT(container_args(image, {"echo", "hi"}), ElementsAre("/bin/tini", "--", "echo", "hi"));
    EXPECT_THAT(container_args(image, {}), ElementsAre("/bin/tini", "--", "sh"));
}

TEST(ContainerArgs, NothingToRunIsTheCallersError) {
    try {
        container_args(ImageConfig{}, {});
        FAIL() << "no error";
    } catch (const InvalidContainerArgument& e) {
        EXPECT_THAT(e.what(), HasSubstr("no command given"));
    }
}

TEST(ContainerEnv, OverridesByKeyAndAddsPathOnlyWhenMissing) {
    EXPECT_THAT(container_env({"PATH=/bin", "A=1", "B=2"}, {"B=3", "C=x=y"}),
                ElementsAre("PATH=/bin", "A=1", "B=3", "C=x=y"));
    auto env = container_env({}, {"A="});
    ASSERT_EQ(env.size(), 2U);
    EXPECT_THAT(env[0], HasSubstr("PATH=/usr/local/sbin:"));
    EXPECT_EQ(env[1], "A=");
}

TEST(ContainerEnv, EntryWithoutKeyIsNamed) {
    for (std::string bad : {"NOVALUE", "=x"}) {
        try {
            container_env({}, {bad});
            FAIL() << bad;
        } catch (const InvalidContainerArgument& e) {
            EXPECT_THAT(e.what(), HasSubstr("\"" + bad + "\""));
        }
    }
}

class RootfsUsers : public testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/raind-spec-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        rootfs_ = pattern;
        std::filesystem::create_directories(rootfs_ / "etc");
        std::ofstream(rootfs_ / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:www:/var/www:/bin/false\n";
        std::ofstream(rootfs_ / "etc/group") << "root:x:0:\nstaff:x:50:\n";
    }
    void TearDown() override { std::filesystem::remove_all(rootfs_); }
    std::filesystem::path rootfs_;
};

TEST_F(RootfsUsers, NumbersAndNamesFromTheImage) {
    auto check = [this](const std::string& user, uint32_t uid, uint32_t gid) {
        auto ids = condenser::resolve_user(user, rootfs_);
        EXPECT_EQ(ids.uid, uid) << user;
        EXPECT_EQ(ids.gid, gid) << user;
    };
    check("", 0, 0);
    check("1000", 1000, 0);
    check("1000:1001", 1000, 1001);
    check("www", 33, 34);
    check("www:staff", 33, 50);
    check("0:staff", 0, 50);
}

TEST_F(RootfsUsers, UnknownNamesAreNamed) {
    EXPECT_THROW(condenser::resolve_user("nobody-here", rootfs_), InvalidContainerArgument);
    try {
        condenser::resolve_user("www:wheel", rootfs_);
        FAIL();
    } catch (const InvalidContainerArgument& e) {
        EXPECT_THAT(e.what(), HasSubstr("\"wheel\""));
    }
}

TEST_F(RootfsUsers, SpecIsWhatDropletRuns) {
    ImageConfig image = busybox_like();
    image.user = "www";
    image.working_dir = "/srv";
    image.env.push_back("HOME=/root");
    auto json = condenser::container_spec(image, {id, {"echo", "hi"}, {"HOME=/home"}, rootfs_});
    auto spec = droplet::parse_spec(json.dump());

    EXPECT_THAT(spec.process.args, ElementsAre("echo", "hi"));
    EXPECT_THAT(spec.process.env, Contains("HOME=/home"));
    EXPECT_THAT(spec.process.env, Not(Contains("HOME=/root")));
    EXPECT_EQ(spec.process.cwd, "/srv");
    EXPECT_EQ(spec.process.user.uid, 33U);
    EXPECT_EQ(spec.process.user.gid, 34U);
    EXPECT_FALSE(spec.process.terminal);
    EXPECT_EQ(spec.root.path, "rootfs");
    EXPECT_EQ(spec.linux.cgroups_path, "raind.slice:raind:" + id);
    ASSERT_TRUE(spec.process.capabilities.has_value());
    const auto& bounding = spec.process.capabilities->bounding;
    EXPECT_THAT(bounding, Contains("CAP_NET_BIND_SERVICE"));
    EXPECT_THAT(bounding, Contains("CAP_CHOWN"));
    EXPECT_THAT(bounding, Not(Contains("CAP_SYS_ADMIN")));
    EXPECT_THAT(bounding, Not(Contains("CAP_NET_ADMIN")));
    std::vector<std::string> namespaces;
    for (const auto& ns : spec.linux.namespaces)
        namespaces.push_back(ns.type);
    EXPECT_THAT(namespaces, testing::UnorderedElementsAre("pid", "network", "ipc", "uts", "mount"));
}

} // namespace
