// Seccomp as a user meets it: `raind run` against the sandbox's condenser gives containers
// Docker's default profile, `--security-opt seccomp=unconfined|FILE` changes it (the CLI reads
// FILE), CreateContainer over D-Bus reads a path on the daemon's side, and bad profiles are
// refused by name before anything is made.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixture_support.hpp"
#include "process.hpp"
#include "raind-config.h"

namespace {

namespace fs = std::filesystem;
using raind::test::run;
using nlohmann::json;

const fs::path state_dir = RAIND_STATE_DIR;
const fs::path containers_dir = state_dir / "containers";

int exit_code(const raind::test::Output& out) { return WIFEXITED(out.status) ? WEXITSTATUS(out.status) : -1; }

raind::test::Output raind_cli(std::vector<std::string> args) {
    args.insert(args.begin(), RAIND_BINDIR "/raind");
    return run(args);
}

json ps_all() {
    auto out = raind_cli({"ps", "-a", "--json"});
    EXPECT_EQ(exit_code(out), 0) << out.err;
    return json::parse(out.out);
}

size_t entries_in(const fs::path& dir) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
        ++n;
    return n;
}

// Everything under a CreateContainer call: the a{sv} options as busctl arguments.
raind::test::Output create_container(const std::vector<std::string>& security_opt) {
    std::vector<std::string> argv = {"/usr/bin/busctl", "call", "--json=short", "org.raind.Condenser1",
                                     "/org/raind/Condenser1", "org.raind.Condenser1.Manager", "CreateContainer",
                                     "sasa{sv}", "busybox", "1", "true", "1", "security_opt", "as",
                                     std::to_string(security_opt.size())};
    argv.insert(argv.end(), security_opt.begin(), security_opt.end());
    return run(argv);
}

class Seccomp : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // overlayfs cannot have the sandbox's overlay /var as upper layer: the store on a tmpfs.
        fs::create_directories(state_dir);
        ASSERT_EQ(::mount("raind-test-state", state_dir.c_str(), "tmpfs", 0, "mode=0700"), 0) << strerror(errno);
        raind::fixtures::TempDir dir;
        auto archive = (dir.path() / "busybox.tar").string();
        auto copy = raind::fixtures::run_command(
            {"/usr/bin/skopeo", "copy", "--quiet", "oci:" + raind::fixtures::images_layout().string() + ":busybox",
             "docker-archive:" + archive + ":busybox:latest"});
        ASSERT_EQ(copy.status, 0) << copy.output;
        auto load = raind_cli({"load", "-i", archive});
        ASSERT_EQ(exit_code(load), 0) << load.err;
    }
    static void TearDownTestSuite() {
        run({"/usr/bin/systemctl", "stop", "condenser.service"});
        ::umount2(state_dir.c_str(), MNT_DETACH);
    }
    void TearDown() override {
        for (const auto& row : ps_all())
            raind_cli({"rm", "-f", row["Id"].get<std::string>()});
        EXPECT_EQ(ps_all().size(), 0u);
        EXPECT_EQ(raind::fixtures::mounts_below(containers_dir).size(), 0u);
        EXPECT_EQ(entries_in(containers_dir), 0u);
    }

    std::string write_profile(const std::string& name, const std::string& text) {
        std::string path = (dir_.path() / name).string();
        std::ofstream(path) << text;
        return path;
    }

    raind::fixtures::TempDir dir_;
};

// Docker's format: everything allowed but mkdir, refused with EACCES unless CAP_SYS_ADMIN.
const json mkdir_denied = {
    {"defaultAction", "SCMP_ACT_ALLOW"},
    {"syscalls",
     {{{"names", {"mkdir", "mkdirat"}},
       {"action", "SCMP_ACT_ERRNO"},
       {"errnoRet", 13},
       {"excludes", {{"caps", {"CAP_SYS_ADMIN"}}}}}}},
};

TEST_F(Seccomp, DefaultProfileRefusesWhatUnconfinedAllows) {
    auto out = raind_cli({"run", "--rm", "busybox", "sh", "-c", "echo ok; unshare -U true"});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_EQ(out.out, "ok\n");
    EXPECT_NE(out.err.find("Operation not permitted"), std::string::npos) << out.err;

    out = raind_cli({"run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true"});
    EXPECT_EQ(exit_code(out), 0) << out.err;
}

TEST_F(Seccomp, ProfileFileNamedToTheCliIsEnforced) {
    std::string path = write_profile("mkdir.json", mkdir_denied.dump());
    auto out = raind_cli({"run", "--rm", "--tmpfs", "/scratch", "--security-opt", "seccomp=" + path, "busybox",
                          "mkdir", "/scratch/d"});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("Permission denied"), std::string::npos) << out.err;
    // The same profile with CAP_SYS_ADMIN: its excludes drop the rule.
    out = raind_cli({"run", "--rm", "--tmpfs", "/scratch", "--cap-add", "SYS_ADMIN", "--security-opt",
                     "seccomp=" + path, "busybox", "mkdir", "/scratch/d"});
    EXPECT_EQ(exit_code(out), 0) << out.err;
}

TEST_F(Seccomp, CreateContainerReadsAPathOnTheDaemonsSide) {
    std::string path = write_profile("mkdir.json", mkdir_denied.dump());
    auto out = create_container({"seccomp=" + path});
    ASSERT_EQ(exit_code(out), 0) << out.err;
    std::string id = json::parse(out.out)["data"][0].get<std::string>();
    auto config = json::parse(std::ifstream(containers_dir / id / "config.json"));
    EXPECT_EQ(config["linux"]["seccomp"]["syscalls"][0]["names"], json({"mkdir", "mkdirat"}));
    EXPECT_EQ(config["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
    EXPECT_FALSE(config["linux"]["seccomp"]["syscalls"][0].contains("excludes"));
}

TEST_F(Seccomp, BadProfilesAreRefusedByNameAndLeaveNothing) {
    std::string missing = (dir_.path() / "missing.json").string();
    auto out = raind_cli({"run", "--rm", "--security-opt", "seccomp=" + missing, "busybox", "true"});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("cannot read seccomp profile " + missing), std::string::npos) << out.err;

    out = raind_cli({"run", "--rm", "--security-opt", "seccomp=" + dir_.path().string(), "busybox", "true"});
    EXPECT_NE(out.err.find("seccomp profile " + dir_.path().string() + " is not a regular file"), std::string::npos)
        << out.err;

    std::string broken = write_profile("broken.json", "{\"defaultAction\":");
    out = raind_cli({"run", "--rm", "--security-opt", "seccomp=" + broken, "busybox", "true"});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("seccomp profile " + broken + " is not valid JSON"), std::string::npos) << out.err;

    // Checked by condenser: the field and the value that is wrong.
    std::string action = write_profile(
        "action.json", R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_FOO"}]})");
    out = raind_cli({"run", "--rm", "--security-opt", "seccomp=" + action, "busybox", "true"});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("syscalls[0].action: unknown action \"SCMP_ACT_FOO\""), std::string::npos) << out.err;

    // Over D-Bus the daemon opens the path itself.
    out = create_container({"seccomp=" + missing});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("seccomp profile " + missing + ": cannot open: No such file or directory"),
              std::string::npos)
        << out.err;
    out = create_container({"seccomp=unconfined", "seccomp=" + action});
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("chosen twice"), std::string::npos) << out.err;
    EXPECT_EQ(ps_all().size(), 0u);
}

} // namespace
