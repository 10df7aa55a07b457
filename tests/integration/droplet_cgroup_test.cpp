// droplet --systemd-cgroup against the sandbox's real systemd: the container lives in the
// transient scope its cgroupsPath names, with Delegate=yes and its limits as properties; it
// can make sub-cgroups; pause freezes it; update goes through SetUnitProperties; delete
// leaves no unit and no cgroup behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "../runtime/cgroup_bundle.hpp"
#include "systemd_client.hpp"

namespace droplet::test {
namespace {

using ::testing::HasSubstr;
using raind::test::SystemdClient;
using raind::test::systemd_scope_interface;
using raind::test::systemd_unit_interface;

constexpr const char* installed_droplet = "/usr/local/bin/droplet";

class SystemdCgroup : public ::testing::Test {
protected:
    void SetUp() override {
        id_ = "sdcg" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
        unit_ = "raind-" + id_ + ".scope";
        cgroup_ = "/sys/fs/cgroup/raind.slice/" + unit_;
    }
    void TearDown() override {
        droplet({"delete", "--force", id_});
        EXPECT_FALSE(systemd_.find_unit(unit_).has_value() && !systemd_.wait_unit_gone(unit_))
            << unit_ << " was left behind";
        EXPECT_FALSE(fs::exists(cgroup_)) << cgroup_ << " was left behind";
    }
    Result droplet(std::vector<std::string> args) {
        args.insert(args.begin(), {"--systemd-cgroup", "--root", "/run/droplet-test"});
        return droplet_cli(installed_droplet, args);
    }
    std::string status() { return nlohmann::json::parse(droplet({"state", id_}).out).at("status"); }
    pid_t pid() { return nlohmann::json::parse(droplet({"state", id_}).out).at("pid").get<pid_t>(); }
    template <class T>
    T scope_property(const std::string& name) {
        return systemd_.property_as<T>(unit_, systemd_scope_interface, name);
    }

    static inline int counter_ = 0;
    SystemdClient systemd_;
    std::string id_, unit_, cgroup_;
};

TEST_F(SystemdCgroup, ContainerRunsInADelegatedScopeWithItsLimitsAndLeavesNothing) {
    CgroupBundle bundle({"sleep", "1000"});
    bundle.config()["linux"]["cgroupsPath"] = "raind.slice:raind:" + id_;
    bundle.config()["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
    bundle.config()["linux"]["resources"]["pids"] = {{"limit", 100}};
    bundle.config()["linux"]["resources"]["cpu"] = {{"shares", 1024}, {"quota", 50000}, {"period", 100000}};
    bundle.write();
    Result run = droplet({"run", "--detach", "--bundle", bundle.dir(), id_});
    ASSERT_EQ(run.status, 0) << run.text();

    EXPECT_EQ(systemd_.property_as<std::string>(unit_, systemd_unit_interface, "ActiveState"), "active");
    EXPECT_EQ(raind::test::cgroup_of(pid()), "/raind.slice/" + unit_);
    EXPECT_TRUE(scope_property<bool>("Delegate"));
    EXPECT_EQ(scope_property<std::string>("Slice"), "raind.slice");
    EXPECT_EQ(scope_property<uint64_t>("MemoryMax"), 64u << 20);
    EXPECT_EQ(scope_property<uint64_t>("TasksMax"), 100u);
    EXPECT_EQ(scope_property<uint64_t>("CPUWeight"), 39u);
    EXPECT_EQ(scope_property<uint64_t>("CPUQuotaPerSecUSec"), 500000u);
    EXPECT_EQ(scope_property<std::string>("DevicePolicy"), "strict");
    EXPECT_EQ(systemd_.property_as<std::string>(unit_, systemd_unit_interface, "CollectMode"), "inactive-or-failed");
    EXPECT_THAT(systemd_.property_as<std::string>(unit_, systemd_unit_interface, "Description"), HasSubstr(id_));

    // Delegation: inside its cgroup namespace the container makes a sub-cgroup of its scope.
    Result mkdir = droplet({"exec", id_, "mkdir", "/sys/fs/cgroup/inner"});
    ASSERT_EQ(mkdir.status, 0) << mkdir.text();
    EXPECT_TRUE(fs::is_directory(cgroup_ + "/inner"));

    Result ps = droplet({"ps", "--format", "json", id_});
    EXPECT_EQ(nlohmann::json::parse(ps.out), nlohmann::json::array({pid()})) << ps.text();

    Result del = droplet({"delete", "--force", id_});
    ASSERT_EQ(del.status, 0) << del.text();
    EXPECT_TRUE(systemd_.wait_unit_gone(unit_));
    EXPECT_FALSE(fs::exists(cgroup_));
    raind::test::Output units = raind::test::run({"/bin/systemctl", "list-units", "--all", "--no-legend"});
    EXPECT_THAT(units.out, ::testing::Not(HasSubstr(id_)));
}

TEST_F(SystemdCgroup, PauseFreezesTheScopeAndUpdateSetsUnitProperties) {
    CgroupBundle bundle({"sleep", "1000"});
    bundle.config()["linux"]["cgroupsPath"] = "raind.slice:raind:" + id_;
    bundle.config()["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);

    ASSERT_EQ(droplet({"pause", id_}).status, 0);
    EXPECT_THAT(read_all(cgroup_ + "/cgroup.events"), HasSubstr("frozen 1"));
    EXPECT_EQ(status(), "paused");
    ASSERT_EQ(droplet({"resume", id_}).status, 0);
    EXPECT_THAT(read_all(cgroup_ + "/cgroup.events"), HasSubstr("frozen 0"));
    EXPECT_EQ(status(), "running");

    Result update = droplet({"update", "--memory", std::to_string(128 << 20), "--pids-limit", "42", id_});
    ASSERT_EQ(update.status, 0) << update.text();
    EXPECT_EQ(scope_property<uint64_t>("MemoryMax"), 128u << 20);
    EXPECT_EQ(scope_property<uint64_t>("TasksMax"), 42u);
}

TEST_F(SystemdCgroup, ContainerThatExitsTakesItsScopeWithIt) {
    CgroupBundle bundle({"true"});
    bundle.config()["linux"]["cgroupsPath"] = "raind.slice:raind:" + id_;
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    ASSERT_EQ(run.status, 0) << run.text();
    EXPECT_TRUE(systemd_.wait_unit_gone(unit_));
}

TEST_F(SystemdCgroup, AScopeThatAlreadyExistsIsJoined) {
    CgroupBundle bundle({"sleep", "1000"});
    bundle.config()["linux"]["cgroupsPath"] = "raind.slice:raind:" + id_;
    bundle.write();
    ASSERT_EQ(droplet({"run", "--detach", "--bundle", bundle.dir(), id_}).status, 0);
    // A second container (a restart racing the old scope's end does the same) names the
    // same scope: it joins it instead of failing with UnitExists.
    std::string second = id_ + "-again";
    Result run = droplet({"run", "--detach", "--bundle", bundle.dir(), second});
    ASSERT_EQ(run.status, 0) << run.text();
    pid_t second_pid = nlohmann::json::parse(droplet({"state", second}).out).at("pid").get<pid_t>();
    EXPECT_EQ(raind::test::cgroup_of(second_pid), "/raind.slice/" + unit_);
    EXPECT_EQ(droplet({"delete", "--force", second}).status, 0);
}

TEST_F(SystemdCgroup, ACreateThatFailsAfterTheScopeStartedStopsIt) {
    CgroupBundle bundle({"/no/such/program"});
    bundle.config()["linux"]["cgroupsPath"] = "raind.slice:raind:" + id_;
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    EXPECT_NE(run.status, 0);
    EXPECT_THAT(run.err, HasSubstr("/no/such/program"));
    EXPECT_TRUE(systemd_.wait_unit_gone(unit_));
    EXPECT_FALSE(fs::exists(cgroup_));
    EXPECT_FALSE(fs::exists("/run/droplet-test/" + id_));
}

TEST_F(SystemdCgroup, MalformedCgroupsPathIsRefusedBeforeAnythingStarts) {
    CgroupBundle bundle({"true"});
    bundle.config()["linux"]["cgroupsPath"] = "/raind/" + id_;
    bundle.write();
    Result run = droplet({"run", "--bundle", bundle.dir(), id_});
    EXPECT_NE(run.status, 0);
    EXPECT_THAT(run.err, HasSubstr("must have the form slice:prefix:name"));
    EXPECT_FALSE(fs::exists("/run/droplet-test/" + id_));
}

// Podman drives droplet the way it drives runc: `--systemd-cgroup` and a cgroupsPath of
// machine.slice:libpod:<id>.
TEST_F(SystemdCgroup, PodmanWithTheSystemdCgroupManagerRunsDropletContainersInScopes) {
    CgroupBundle bundle({"true"});
    const std::vector<std::string> podman = {"/usr/bin/podman", "--runtime", installed_droplet,
                                             "--cgroup-manager=systemd"};
    auto run_podman = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = podman;
        argv.insert(argv.end(), args.begin(), args.end());
        return raind::test::run(argv);
    };
    const std::vector<std::string> host_limits = {"--network", "none", "--ulimit", "nofile=20000:20000",
                                                  "--ulimit", "nproc=32768:32768"};
    std::vector<std::string> args = {"run", "-d", "--name", id_, "--memory", "64m", "--pids-limit", "50"};
    args.insert(args.end(), host_limits.begin(), host_limits.end());
    args.insert(args.end(), {"--rootfs", bundle.dir() + "/rootfs", "sleep", "1000"});
    raind::test::Output started = run_podman(args);
    ASSERT_EQ(started.status, 0) << started.err;
    std::string container = started.out.substr(0, started.out.find('\n'));
    std::string unit = "libpod-" + container + ".scope";
    std::string cgroup = "/sys/fs/cgroup/machine.slice/" + unit;

    EXPECT_EQ(systemd_.property_as<std::string>(unit, systemd_unit_interface, "ActiveState"), "active");
    EXPECT_TRUE(systemd_.property_as<bool>(unit, systemd_scope_interface, "Delegate"));
    EXPECT_EQ(systemd_.property_as<uint64_t>(unit, systemd_scope_interface, "MemoryMax"), 64u << 20);
    EXPECT_EQ(systemd_.property_as<uint64_t>(unit, systemd_scope_interface, "TasksMax"), 50u);

    ASSERT_EQ(run_podman({"pause", id_}).status, 0);
    EXPECT_THAT(read_all(cgroup + "/cgroup.events"), HasSubstr("frozen 1"));
    ASSERT_EQ(run_podman({"unpause", id_}).status, 0);
    EXPECT_THAT(read_all(cgroup + "/cgroup.events"), HasSubstr("frozen 0"));

    raind::test::Output removed = run_podman({"rm", "--force", "--time", "0", id_});
    EXPECT_EQ(removed.status, 0) << removed.err;
    EXPECT_TRUE(systemd_.wait_unit_gone(unit));
    EXPECT_FALSE(fs::exists(cgroup));
    raind::test::Output units = raind::test::run({"/bin/systemctl", "list-units", "--all", "--no-legend"});
    // (podman's own libpod-conmon-<id>.scope goes away on conmon's schedule, not droplet's.)
    EXPECT_THAT(units.out, ::testing::Not(HasSubstr(unit)));

    // A foreground run through the same path, removed on exit.
    args = {"run", "--rm"};
    args.insert(args.end(), host_limits.begin(), host_limits.end());
    args.insert(args.end(), {"--rootfs", bundle.dir() + "/rootfs", "cat", "/proc/self/cgroup"});
    raind::test::Output foreground = run_podman(args);
    EXPECT_EQ(foreground.status, 0) << foreground.err;
    EXPECT_THAT(foreground.out, HasSubstr("0::/\n")); // its own cgroup namespace, rooted at its scope
}

} // namespace
} // namespace droplet::test
