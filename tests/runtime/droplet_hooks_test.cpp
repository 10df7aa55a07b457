// hooks.*: the six kinds run in lifecycle order with the state on stdin, their own args and
// env, a timeout, and the spec's failure rules.
#include <chrono>
#include <gtest/gtest.h>
#include <sstream>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Hooks : public ::testing::Test, public DropletTest {
protected:
    // A hook that appends its kind to <dir>/order and saves its stdin as <dir>/<kind>.json.
    // startContainer runs inside the container (after pivot_root): it writes through the
    // bind mount of <dir> on /hooks, with the container's busybox sh.
    nlohmann::json recording_hook(const std::string& kind, bool in_container = false) {
        std::string d = in_container ? "/hooks" : dir();
        return {{"path", "/bin/sh"},
                {"args", {"sh", "-c", "cat > " + d + "/" + kind + ".json; echo " + kind + " $HOOK_VAR >> " + d + "/order"}},
                {"env", {"HOOK_VAR=v-" + kind, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}}};
    }
    void bind_dir_on_hooks() {
        config()["mounts"].push_back(
            {{"destination", "/hooks"}, {"type", "bind"}, {"source", dir()}, {"options", {"rbind", "rw"}}});
    }
    nlohmann::json saved_state(const std::string& kind) {
        return nlohmann::json::parse(read_file_text(dir() + "/" + kind + ".json"));
    }
};

TEST_F(Hooks, AllKindsRunInOrderWithTheStateOnStdin) {
    bind_dir_on_hooks();
    config()["hooks"] = {{"prestart", {recording_hook("prestart")}},
                         {"createRuntime", {recording_hook("createRuntime")}},
                         {"createContainer", {recording_hook("createContainer")}},
                         {"startContainer", {recording_hook("startContainer", true)}},
                         {"poststart", {recording_hook("poststart")}},
                         {"poststop", {recording_hook("poststop")}}};
    set_args({"sh", "-c", "echo program >> /hooks/order"});
    Output o = run("hooked");
    ASSERT_EQ(o.status, 0) << o.err;
    std::string order = read_file_text(dir() + "/order");
    // poststart runs once the program is started; it may finish before or after it.
    std::string without_program = order;
    without_program.erase(without_program.find("program\n"), 8);
    EXPECT_EQ(without_program,
              "prestart v-prestart\ncreateRuntime v-createRuntime\ncreateContainer v-createContainer\n"
              "startContainer v-startContainer\npoststart v-poststart\npoststop v-poststop\n");
    EXPECT_LT(order.find("startContainer"), order.find("program"));
    EXPECT_LT(order.find("program"), order.find("poststop"));

    nlohmann::json pre = saved_state("prestart");
    EXPECT_EQ(pre["id"], "hooked");
    // Every hook of `create` and `start` sees `created` (as crun does and runtime-tools checks).
    EXPECT_EQ(pre["status"], "created");
    EXPECT_EQ(saved_state("createRuntime")["status"], "created");
    EXPECT_EQ(saved_state("createContainer")["status"], "created");
    EXPECT_EQ(pre["bundle"], bundle());
    EXPECT_GT(pre["pid"].get<int>(), 0);
    EXPECT_EQ(saved_state("createContainer")["pid"], pre["pid"]);
    EXPECT_EQ(saved_state("startContainer")["status"], "created");
    EXPECT_EQ(saved_state("poststart")["status"], "running");
    EXPECT_EQ(saved_state("poststop")["status"], "stopped");
    expect_nothing_left("hooked");
}

TEST_F(Hooks, CreateContainerHooksRunInTheContainersNamespaces) {
    config()["hostname"] = "hooked-host";
    config()["hooks"] = {{"createContainer",
                          {{{"path", "/bin/sh"},
                            {"args", {"sh", "-c", "hostname > " + dir() + "/cc; readlink /proc/self/ns/mnt >> " + dir() + "/cc"}}}}},
                         {"prestart",
                          {{{"path", "/bin/sh"},
                            {"args", {"sh", "-c", "hostname > " + dir() + "/pre"}}}}}};
    set_args({"true"});
    ASSERT_EQ(run().status, 0);
    std::istringstream cc(read_file_text(dir() + "/cc"));
    std::string host, mnt;
    cc >> host >> mnt;
    EXPECT_EQ(host, "hooked-host");
    EXPECT_NE(trim(read_file_text(dir() + "/pre")), "hooked-host");
    char own[128] = {};
    ASSERT_GT(::readlink("/proc/self/ns/mnt", own, sizeof own), 0);
    EXPECT_NE(mnt, own);
}

TEST_F(Hooks, AFailingCreateRuntimeHookFailsCreateRunsPoststopAndLeavesNothing) {
    config()["hooks"] = {
        {"createRuntime", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo hook says no >&2; exit 4"}}}}},
        {"poststop", {recording_hook("poststop")}}};
    set_args({"true"});
    Output o = droplet({"create", "--bundle", bundle(), "c"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("createRuntime hook [0] /bin/sh: exited with status 4"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("hook says no"), std::string::npos) << o.err;
    EXPECT_EQ(read_file_text(dir() + "/order"), "poststop v-poststop\n");
    expect_nothing_left("c", saved_state("poststop")["pid"].get<pid_t>());
}

TEST_F(Hooks, AFailingStartContainerHookFailsStart) {
    config()["hooks"] = {{"startContainer", {{{"path", "/bin/false"}}}}};
    set_args({"true"});
    Output o = run();
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("startContainer hook [0] /bin/false: exited with status 1"), std::string::npos) << o.err;
    expect_nothing_left("c");
}

TEST_F(Hooks, FailingPoststartAndPoststopHooksAreOnlyWarnings) {
    config()["hooks"] = {{"poststart", {{{"path", "/bin/false"}}}}, {"poststop", {{{"path", "/bin/false"}}}}};
    set_args({"sh", "-c", "echo ran"});
    Output o = run();
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "ran\n");
    EXPECT_NE(o.err.find("warning: poststart hook [0] /bin/false: exited with status 1, ignoring"), std::string::npos)
        << o.err;
    EXPECT_NE(o.err.find("warning: poststop hook [0] /bin/false"), std::string::npos) << o.err;
    expect_nothing_left("c");
}

TEST_F(Hooks, AHookPastItsTimeoutIsKilledAndFailsCreate) {
    config()["hooks"] = {{"prestart", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
    set_args({"true"});
    auto start = std::chrono::steady_clock::now();
    Output o = droplet({"create", "--bundle", bundle(), "c"});
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("prestart hook [0] /bin/sleep: timed out after 1s"), std::string::npos) << o.err;
    EXPECT_LT(took, std::chrono::seconds(5));
    expect_nothing_left("c");
}

TEST_F(Hooks, AMissingHookBinaryIsNamed) {
    config()["hooks"] = {{"prestart", {{{"path", "/no/such/hook"}}}}};
    set_args({"true"});
    Output o = droplet({"create", "--bundle", bundle(), "c"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("prestart hook [0] /no/such/hook"), std::string::npos) << o.err;
    expect_nothing_left("c");
}

} // namespace
} // namespace droplet::test
