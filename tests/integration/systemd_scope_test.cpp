// What droplet --systemd-cgroup relies on: a transient scope with Delegate=yes for a
// process, created through sd-bus the way our code does it, and removed without a trace.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <filesystem>
#include <fstream>

#include "process.hpp"
#include "systemd_client.hpp"

namespace fs = std::filesystem;
using raind::test::Child;
using raind::test::SystemdClient;
using raind::test::UnitProperties;

namespace {

const fs::path cgroup_root = "/sys/fs/cgroup";

Child sleeper() { return Child::spawn({"/bin/sleep", "infinity"}); }

UnitProperties scope_properties(pid_t pid) {
    return {
        {"Description", sdbus::Variant(std::string("raind integration test scope"))},
        {"Slice", sdbus::Variant(std::string("raind.slice"))},
        {"Delegate", sdbus::Variant(true)},
        {"PIDs", sdbus::Variant(std::vector<uint32_t>{static_cast<uint32_t>(pid)})},
    };
}

std::string scope_name(pid_t pid) { return "raind-test-" + std::to_string(pid) + ".scope"; }

} // namespace

TEST(TransientScope, RaindSliceIsTheInstalledUnit) {
    SystemdClient systemd;
    EXPECT_EQ(systemd.property_as<std::string>("raind.slice", raind::test::systemd_unit_interface, "LoadState"), "loaded");
    EXPECT_EQ(systemd.property_as<std::string>("raind.slice", raind::test::systemd_unit_interface, "Description"),
              "raind containers");
}

TEST(TransientScope, DelegatedScopeHoldsTheProcessAndIsRemovedOnStop) {
    Child child = sleeper();
    const std::string unit = scope_name(child.pid());
    const fs::path cgroup = cgroup_root / "raind.slice" / unit;
    SystemdClient systemd;

    ASSERT_EQ(systemd.start_transient_unit(unit, scope_properties(child.pid())), "done");

    EXPECT_EQ(raind::test::cgroup_of(child.pid()), "/raind.slice/" + unit);
    EXPECT_TRUE(systemd.property_as<bool>(unit, raind::test::systemd_scope_interface, "Delegate"));
    EXPECT_EQ(systemd.property_as<std::string>(unit, raind::test::systemd_scope_interface, "ControlGroup"),
              "/raind.slice/" + unit);
    EXPECT_EQ(systemd.property_as<std::string>(unit, raind::test::systemd_unit_interface, "ActiveState"), "active");
    // systemd marks a delegated cgroup for the tools that read it (cgroup managers, runc).
    char mark[8] = {};
    EXPECT_EQ(getxattr(cgroup.c_str(), "trusted.delegate", mark, sizeof mark), 1) << cgroup;
    EXPECT_EQ(mark[0], '1');

    // Delegation means the subtree is ours: a child cgroup, and moving our process into it.
    ASSERT_TRUE(fs::create_directory(cgroup / "payload"));
    {
        std::ofstream procs(cgroup / "payload" / "cgroup.procs");
        procs << child.pid() << std::flush;
        ASSERT_TRUE(procs.good()) << "cannot move " << child.pid() << " into " << cgroup / "payload";
    }
    EXPECT_EQ(raind::test::cgroup_of(child.pid()), "/raind.slice/" + unit + "/payload");

    ASSERT_EQ(systemd.stop_unit(unit), "done");
    int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "wait status " << status;
    EXPECT_TRUE(systemd.wait_unit_gone(unit)) << unit << " is still loaded after StopUnit";
    EXPECT_FALSE(fs::exists(cgroup)) << cgroup << " was left behind";
}

TEST(TransientScope, ScopeForAProcessThatIsGoneFailsAndLeavesNoUnit) {
    pid_t gone;
    {
        Child child = sleeper();
        gone = child.pid();
    } // killed and reaped: the PID names no process now
    const std::string unit = scope_name(gone);
    SystemdClient systemd;

    try {
        systemd.start_transient_unit(unit, scope_properties(gone));
        FAIL() << "StartTransientUnit accepted a scope for the dead PID " << gone;
    } catch (const sdbus::Error& e) {
        EXPECT_FALSE(e.getName().empty());
        EXPECT_NE(e.getMessage().find(std::to_string(gone)), std::string::npos) << e.what();
    }
    EXPECT_TRUE(systemd.wait_unit_gone(unit));
    EXPECT_FALSE(fs::exists(cgroup_root / "raind.slice" / unit));
}
