// The cgroupfs driver on the host (root suite): droplet makes the container's cgroup v2
// directory in the unified hierarchy (/sys/fs/cgroup/unified on this hybrid CI host),
// freezes, lists and kills through it, and removes it on delete.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cgroup.hpp"
#include "cgroup_bundle.hpp"

namespace droplet::test {
namespace {

using ::testing::HasSubstr;

class CgroupFs : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root";
        mount_ = unified_mount_point();
        if (mount_.empty())
            GTEST_SKIP() << "no cgroup2 hierarchy is mounted";
        char tmpl[] = "/tmp/droplet-cgroup-state-XXXXXX";
        root_ = ::mkdtemp(tmpl);
        id_ = "cgtest-" + std::to_string(::getpid());
        cgroup_ = mount_ + "/" + id_;
    }
    void TearDown() override {
        if (root_.empty())
            return;
        droplet({"delete", "--force", id_});
        std::error_code ignored;
        fs::remove_all(root_, ignored);
        EXPECT_FALSE(fs::exists(cgroup_)) << cgroup_ << " was left behind";
    }
    Result droplet(std::vector<std::string> args) {
        args.insert(args.begin(), {"--root", root_});
        return droplet_cli(DROPLET_PATH, args);
    }
    pid_t init_pid() { return nlohmann::json::parse(read_all(root_ + "/" + id_ + "/state.json")).at("pid").get<pid_t>(); }
    std::string status() { return nlohmann::json::parse(droplet({"state", id_}).out).at("status"); }

    std::string mount_, root_, id_, cgroup_;
};

TEST_F(CgroupFs, DirectoryHoldsTheContainerAndVanishesOnDelete) {
    CgroupBundle bundle({"sleep", "1000"});
    bundle.write();
    ASSERT_EQ(droplet({"create", "--bundle", bundle.dir(), id_}).status, 0);
    ASSERT_TRUE(fs::is_directory(cgroup_)) << cgroup_;
    pid_t pid = init_pid();
    // The init is in its cgroup before it runs anything of the container.
    EXPECT_EQ(raind::test::cgroup_of(pid), "/" + id_);
    EXPECT_EQ(read_all(cgroup_ + "/cgroup.procs"), std::to_string(pid) + "\n");
    ASSERT_EQ(droplet({"start", id_}).status, 0);

    Result ps = droplet({"ps", "--format", "json", id_});
    ASSERT_EQ(ps.status, 0) << ps.text();
    EXPECT_EQ(nlohmann::json::parse(ps.out), nlohmann::json::array({pid}));

    Result del = droplet({"delete", "--force", id_});
    ASSERT_EQ(del.status, 0) << del.text();
    EXPECT_FALSE(fs::exists(cgroup_));
}

TEST_F(CgroupFs, PauseFreezesEveryProcessAndResumeThaws) {
    CgroupBundle bundle({"sh", "-c", "sleep 1000 & sleep 1000"});
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    Result ps;
    for (int i = 0; i < 200; ++i) {
        ps = droplet({"ps", "--format", "json", id_});
        if (nlohmann::json::parse(ps.out).size() >= 2)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(nlohmann::json::parse(ps.out).size(), 2u) << ps.text();

    ASSERT_EQ(droplet({"pause", id_}).status, 0);
    EXPECT_THAT(read_all(cgroup_ + "/cgroup.events"), HasSubstr("frozen 1"));
    EXPECT_EQ(status(), "paused");
    Result again = droplet({"resume", id_});
    ASSERT_EQ(again.status, 0) << again.text();
    EXPECT_THAT(read_all(cgroup_ + "/cgroup.events"), HasSubstr("frozen 0"));
    EXPECT_EQ(status(), "running");
    Result not_paused = droplet({"resume", id_});
    EXPECT_NE(not_paused.status, 0);
    EXPECT_THAT(not_paused.err, HasSubstr("is not paused"));
}

TEST_F(CgroupFs, KillAllReachesEveryProcessOfTheCgroup) {
    CgroupBundle bundle({"sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait"});
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    std::vector<pid_t> pids;
    for (int i = 0; i < 200 && pids.size() < 3; ++i) {
        pids = nlohmann::json::parse(droplet({"ps", "--format", "json", id_}).out).get<std::vector<pid_t>>();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(pids.size(), 3u);
    ASSERT_EQ(droplet({"kill", "--all", id_, "KILL"}).status, 0);
    // A task leaves cgroup.procs a moment before it becomes a zombie: wait for both.
    std::string state;
    for (int i = 0; i < 500 && (!read_all(cgroup_ + "/cgroup.procs").empty() || (state = status()) != "stopped"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(read_all(cgroup_ + "/cgroup.procs"), "");
    EXPECT_EQ(state, "stopped");
}

TEST_F(CgroupFs, KillAllWithTermSignalsTheChildrenThroughTheCgroup) {
    // The shell is pid 1 of its namespace and has no TERM handler, so only its children die
    // of the signal; once they do, `wait` returns and the container ends.
    CgroupBundle bundle({"sh", "-c", "sleep 1000 & sleep 1000 & wait"});
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    for (int i = 0; i < 200 && nlohmann::json::parse(droplet({"ps", "--format", "json", id_}).out).size() < 3; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(droplet({"kill", "--all", id_, "TERM"}).status, 0);
    std::string state;
    for (int i = 0; i < 500 && (state = status()) != "stopped"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(state, "stopped");
    EXPECT_THAT(read_all(cgroup_ + "/cgroup.events"), HasSubstr("frozen 0")); // thawed again after signalling
}

TEST_F(CgroupFs, EventsStatsReportsPidsAndCpu) {
    CgroupBundle bundle({"sleep", "1000"});
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    Result events = droplet({"events", "--stats", id_});
    ASSERT_EQ(events.status, 0) << events.text();
    auto j = nlohmann::json::parse(events.out);
    EXPECT_EQ(j.at("type"), "stats");
    EXPECT_EQ(j.at("id"), id_);
    EXPECT_EQ(j.at("data").at("pids").at("current"), 1);
    EXPECT_TRUE(j.at("data").at("cpu").at("usage").contains("total"));
}

TEST_F(CgroupFs, DeviceRulesAreEnforcedByTheEbpfProgram) {
    // /dev/kmsg (c 1:11) is not among the devices every container gets: the default deny
    // refuses it although the node is there; /dev/null stays usable.
    CgroupBundle bundle({"sh", "-c", "echo x > /dev/null && echo null-ok; head -c1 /tmp/kmsg; echo kmsg=$?"});
    ASSERT_EQ(::mknod((bundle.dir() + "/rootfs/tmp/kmsg").c_str(), S_IFCHR | 0666, makedev(1, 11)), 0);
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    EXPECT_THAT(run.out, HasSubstr("null-ok"));
    EXPECT_THAT(run.out, HasSubstr("kmsg=1"));
    EXPECT_THAT(run.err, HasSubstr("Operation not permitted"));
    EXPECT_FALSE(fs::exists(cgroup_));
}

TEST_F(CgroupFs, ALimitForAMissingControllerNamesItAndLeavesNothing) {
    if (read_all(mount_ + "/cgroup.controllers").find("memory") != std::string::npos)
        GTEST_SKIP() << "the memory controller is available here";
    CgroupBundle bundle({"true"});
    bundle.config()["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    EXPECT_NE(run.status, 0);
    EXPECT_THAT(run.err, HasSubstr("cgroup controller \"memory\" is not available"));
    EXPECT_THAT(run.err, HasSubstr("memory.max"));
    EXPECT_FALSE(fs::exists(cgroup_));
    EXPECT_FALSE(fs::exists(root_ + "/" + id_));
}

TEST_F(CgroupFs, NoLimitNeedsNoController) {
    // "unlimited" is what a hierarchy without the controller gives anyway (podman sends
    // pids.limit -1 with --pids-limit=-1).
    if (read_all(mount_ + "/cgroup.controllers").find("pids") != std::string::npos)
        GTEST_SKIP() << "the pids controller is available here";
    CgroupBundle bundle({"true"});
    bundle.config()["linux"]["resources"]["pids"] = {{"limit", -1}};
    bundle.config()["linux"]["resources"]["memory"] = {{"limit", -1}};
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    EXPECT_EQ(run.status, 0) << run.text();
}

TEST_F(CgroupFs, UpdateOfAMissingControllerFailsNamingIt) {
    if (read_all(mount_ + "/cgroup.controllers").find("pids") != std::string::npos)
        GTEST_SKIP() << "the pids controller is available here";
    CgroupBundle bundle({"sleep", "1000"});
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    Result update = droplet({"update", "--pids-limit", "10", id_});
    EXPECT_NE(update.status, 0);
    EXPECT_THAT(update.err, HasSubstr("cgroup controller \"pids\" is not available"));
    Result nothing = droplet({"update", id_});
    EXPECT_THAT(nothing.err, HasSubstr("nothing to change"));
}

TEST_F(CgroupFs, SystemdCgroupWithoutSystemdFailsClearlyAndLeavesNothing) {
    if (fs::exists("/run/systemd/system"))
        GTEST_SKIP() << "this host runs systemd";
    CgroupBundle bundle({"true"});
    bundle.config()["linux"]["cgroupsPath"] = "raind.slice:raind:" + id_;
    bundle.write();
    Result run = droplet({"--systemd-cgroup", "run", "--bundle", bundle.dir(), id_});
    EXPECT_NE(run.status, 0);
    EXPECT_THAT(run.err, HasSubstr("cannot reach systemd"));
    EXPECT_FALSE(fs::exists(root_ + "/" + id_));
}

TEST_F(CgroupFs, RelativeCgroupsPathIsUnderTheCallersCgroup) {
    CgroupBundle bundle({"sleep", "1000"});
    bundle.config()["linux"]["cgroupsPath"] = id_ + "/inner";
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    std::string own = raind::test::cgroup_of(::getpid());
    std::string expected = (own == "/" ? "" : own) + "/" + id_ + "/inner";
    pid_t pid = init_pid();
    EXPECT_EQ(raind::test::cgroup_of(pid), expected);
    ASSERT_EQ(droplet({"delete", "--force", id_}).status, 0);
    EXPECT_FALSE(fs::exists(mount_ + expected));
    // droplet removes the container's own cgroup, like runc and crun; the parent it had to
    // make is the caller's to remove.
    fs::remove(mount_ + (own == "/" ? "" : own) + "/" + id_);
}

TEST_F(CgroupFs, CgroupsPathOutsideTheHierarchyIsRefused) {
    CgroupBundle bundle({"true"});
    bundle.config()["linux"]["cgroupsPath"] = "/../../etc";
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    EXPECT_NE(run.status, 0);
    EXPECT_THAT(run.err, HasSubstr("\"..\" are not allowed"));
}

} // namespace
} // namespace droplet::test
