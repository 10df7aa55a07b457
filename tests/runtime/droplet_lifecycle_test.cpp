// The lifecycle as a user drives it: run, create/start/state/kill/delete, list, ps, pid files,
// and the errors for what does not exist or is in the wrong state.
#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Lifecycle : public ::testing::Test, public DropletTest {
protected:
    // create with the container's stdio in a file (it outlives droplet create).
    Output create(const std::string& id, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args = {"create", "--bundle", bundle()};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(id);
        SpawnOptions o;
        o.stdout_file = out_file(id);
        Output r = droplet(args, o);
        r.err = read_file_text(out_file(id));
        return r;
    }
    std::string out_file(const std::string& id) { return dir() + "/" + id + ".out"; }
};

TEST_F(Lifecycle, RunShowsOutputAndExitStatusAndLeavesNothing) {
    set_args({"sh", "-c", "echo hello from the container; exit 3"});
    Output o = run("c1");
    EXPECT_EQ(o.out, "hello from the container\n");
    EXPECT_EQ(o.status, 3) << o.err;
    expect_nothing_left("c1");
    EXPECT_EQ(trim(droplet({"list", "--quiet"}).out), "");
}

TEST_F(Lifecycle, RunReportsDeathBySignal) {
    // Without a pid namespace: a namespace's init cannot be killed from inside it.
    auto& nss = config()["linux"]["namespaces"];
    for (size_t i = 0; i < nss.size(); ++i)
        if (nss[i]["type"] == "pid")
            nss.erase(i);
    set_args({"sh", "-c", "kill -KILL $$"});
    EXPECT_EQ(run("c1").status, 128 + 9);
}

TEST_F(Lifecycle, RunForwardsSignalsToTheContainer) {
    set_args({"sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done"});
    write_config();
    std::string out = dir() + "/run.out";
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::string root = state_root();
        ::execl(droplet_path().c_str(), "droplet", "--root", root.c_str(), "run", "--bundle", bundle().c_str(), "c1",
                nullptr);
        ::_exit(127);
    }
    ASSERT_TRUE(wait_for_text(out, "ready")) << read_file_text(out);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 7);
    EXPECT_EQ(read_file_text(out), "ready\ngot TERM\n");
    expect_nothing_left("c1");
}

TEST_F(Lifecycle, CreateStartKillDeleteWalkTheSpecStatuses) {
    set_args({"sh", "-c", "echo started; exec sleep 1000"});
    Output c = create("c1");
    ASSERT_EQ(c.status, 0) << c.err;
    nlohmann::json s = state("c1");
    EXPECT_EQ(s["status"], "created");
    EXPECT_EQ(s["id"], "c1");
    EXPECT_EQ(s["bundle"], bundle());
    EXPECT_EQ(s["ociVersion"], config()["ociVersion"]);
    pid_t pid = s["pid"].get<pid_t>();
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(process_exists(pid));
    // The program has not run yet.
    EXPECT_EQ(read_file_text(out_file("c1")), "");

    Output st = droplet({"start", "c1"});
    ASSERT_EQ(st.status, 0) << st.err;
    EXPECT_EQ(state("c1")["status"], "running");
    EXPECT_TRUE(wait_for_text(out_file("c1"), "started"));
    EXPECT_EQ(state("c1")["pid"], pid);

    Output again = droplet({"start", "c1"});
    EXPECT_NE(again.status, 0);
    EXPECT_NE(again.err.find("not created"), std::string::npos) << again.err;

    ASSERT_EQ(droplet({"kill", "c1", "KILL"}).status, 0);
    EXPECT_EQ(wait_status("c1", "stopped"), "stopped");
    EXPECT_EQ(state("c1")["pid"], 0);
    Output d = droplet({"delete", "c1"});
    EXPECT_EQ(d.status, 0) << d.err;
    expect_nothing_left("c1", pid);
}

TEST_F(Lifecycle, DeleteOfACreatedContainerNeedsForceAndThenKillsItsInit) {
    set_args({"true"});
    ASSERT_EQ(create("c1").status, 0);
    pid_t pid = state("c1")["pid"].get<pid_t>();
    Output d = droplet({"delete", "c1"});
    EXPECT_NE(d.status, 0);
    EXPECT_NE(d.err.find("it is created"), std::string::npos) << d.err;
    EXPECT_EQ(state("c1")["status"], "created");
    EXPECT_EQ(droplet({"delete", "--force", "c1"}).status, 0);
    expect_nothing_left("c1", pid);
}

TEST_F(Lifecycle, DeleteOfARunningContainerNeedsForce) {
    set_args({"sleep", "1000"});
    ASSERT_EQ(create("c1").status, 0);
    ASSERT_EQ(droplet({"start", "c1"}).status, 0);
    pid_t pid = state("c1")["pid"].get<pid_t>();
    Output d = droplet({"delete", "c1"});
    EXPECT_NE(d.status, 0);
    EXPECT_NE(d.err.find("running"), std::string::npos) << d.err;
    EXPECT_EQ(state("c1")["status"], "running");
    EXPECT_EQ(droplet({"delete", "--force", "c1"}).status, 0);
    expect_nothing_left("c1", pid);
}

TEST_F(Lifecycle, KillDeliversTheNamedSignal) {
    set_args({"sh", "-c", "trap 'echo got USR1; exit 0' USR1; echo ready; while :; do sleep 0.05; done"});
    ASSERT_EQ(create("c1").status, 0);
    ASSERT_EQ(droplet({"start", "c1"}).status, 0);
    ASSERT_TRUE(wait_for_text(out_file("c1"), "ready"));
    EXPECT_EQ(droplet({"kill", "c1", "SIGUSR1"}).status, 0);
    EXPECT_TRUE(wait_for_text(out_file("c1"), "got USR1"));
    EXPECT_EQ(wait_status("c1", "stopped"), "stopped");
    Output k = droplet({"kill", "c1", "TERM"});
    EXPECT_NE(k.status, 0);
    EXPECT_NE(k.err.find("not running"), std::string::npos) << k.err;
    Output bad = droplet({"kill", "c1", "SIGNOPE"});
    EXPECT_NE(bad.status, 0);
    EXPECT_EQ(droplet({"delete", "c1"}).status, 0);
}

TEST_F(Lifecycle, PsListsEveryProcessAndKillAllReachesThem) {
    set_args({"sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait"});
    ASSERT_EQ(create("c1").status, 0);
    ASSERT_EQ(droplet({"start", "c1"}).status, 0);
    ASSERT_TRUE(wait_for_text(out_file("c1"), "ready"));
    Output ps = droplet({"ps", "--format", "json", "c1"});
    ASSERT_EQ(ps.status, 0) << ps.err;
    auto pids = nlohmann::json::parse(ps.out).get<std::vector<pid_t>>();
    ASSERT_EQ(pids.size(), 3u) << ps.out;
    Output table = droplet({"ps", "c1"});
    EXPECT_NE(table.out.find("sleep 1000"), std::string::npos) << table.out;
    EXPECT_EQ(droplet({"kill", "--all", "c1", "KILL"}).status, 0);
    EXPECT_EQ(wait_status("c1", "stopped"), "stopped");
    for (pid_t p : pids)
        EXPECT_FALSE(process_exists(p)) << p;
    EXPECT_EQ(droplet({"delete", "c1"}).status, 0);
    expect_nothing_left("c1");
}

TEST_F(Lifecycle, ListShowsEveryContainerAsTableAndJson) {
    set_args({"sleep", "1000"});
    ASSERT_EQ(create("a").status, 0);
    ASSERT_EQ(create("b").status, 0);
    ASSERT_EQ(droplet({"start", "b"}).status, 0);
    auto all = nlohmann::json::parse(droplet({"list", "--format", "json"}).out);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0]["id"], "a");
    EXPECT_EQ(all[0]["status"], "created");
    EXPECT_EQ(all[1]["id"], "b");
    EXPECT_EQ(all[1]["status"], "running");
    Output table = droplet({"list"});
    EXPECT_EQ(table.out.rfind("ID", 0), 0u) << table.out;
    EXPECT_NE(table.out.find("running"), std::string::npos);
    EXPECT_NE(table.out.find(bundle()), std::string::npos);
    EXPECT_EQ(droplet({"delete", "--force", "a"}).status, 0);
    EXPECT_EQ(droplet({"delete", "--force", "b"}).status, 0);
    EXPECT_EQ(trim(droplet({"list", "--quiet"}).out), "");
}

TEST_F(Lifecycle, PidFileHoldsTheInitPid) {
    set_args({"true"});
    std::string pid_file = dir() + "/pid";
    ASSERT_EQ(create("c1", {"--pid-file", pid_file}).status, 0);
    EXPECT_EQ(read_file_text(pid_file), std::to_string(state("c1")["pid"].get<pid_t>()));
    EXPECT_EQ(droplet({"delete", "--force", "c1"}).status, 0);
}

TEST_F(Lifecycle, AnnotationsAppearInTheState) {
    config()["annotations"] = {{"org.example.key", "value"}};
    set_args({"true"});
    ASSERT_EQ(create("c1").status, 0);
    EXPECT_EQ(state("c1")["annotations"]["org.example.key"], "value");
    EXPECT_EQ(droplet({"delete", "--force", "c1"}).status, 0);
}

TEST_F(Lifecycle, ADuplicateIdIsRefusedAndTheFirstContainerKept) {
    set_args({"true"});
    ASSERT_EQ(create("c1").status, 0);
    Output second = droplet({"create", "--bundle", bundle(), "c1"});
    EXPECT_NE(second.status, 0);
    EXPECT_NE(second.err.find("already exists"), std::string::npos) << second.err;
    EXPECT_EQ(state("c1")["status"], "created");
    EXPECT_EQ(droplet({"delete", "--force", "c1"}).status, 0);
}

TEST_F(Lifecycle, DeleteCleansUpAnInterruptedCreateButNotOneInProgress) {
    // What a create killed halfway leaves: the directory without state.json.
    ::mkdir(state_root().c_str(), 0700);
    std::string dir = state_root() + "/c1";
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    write_file_text(dir + "/config.json", "{}");
    int lock = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_EQ(::flock(lock, LOCK_EX), 0); // as a create in progress holds it
    Output busy = droplet({"delete", "c1"});
    EXPECT_NE(busy.status, 0);
    EXPECT_NE(busy.err.find("it is being created"), std::string::npos) << busy.err;
    ::close(lock);
    Output d = droplet({"delete", "c1"});
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_NE(d.err.find("interrupted create"), std::string::npos) << d.err;
    expect_nothing_left("c1");
    set_args({"true"});
    EXPECT_EQ(droplet({"run", "--bundle", bundle(), "c1"}).status, 0);
}

TEST_F(Lifecycle, UnknownContainersAreNamedInErrors) {
    for (auto verb : {"state", "start", "kill", "delete", "ps", "exec"}) {
        std::vector<std::string> args = {verb, "nosuch"};
        if (std::string(verb) == "exec")
            args.push_back("true");
        Output o = droplet(args);
        EXPECT_NE(o.status, 0) << verb;
        EXPECT_NE(o.err.find("\"nosuch\" does not exist"), std::string::npos) << verb << ": " << o.err;
    }
    Output bad = droplet({"state", "../etc"});
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("invalid container id"), std::string::npos) << bad.err;
}

TEST_F(Lifecycle, AMissingProgramFailsCreateAndLeavesNothing) {
    set_args({"/no/such/program"});
    Output o = droplet({"create", "--bundle", bundle(), "c1"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("/no/such/program"), std::string::npos) << o.err;
    expect_nothing_left("c1");
    set_args({"nosuchcommand"});
    o = droplet({"run", "--bundle", bundle(), "c1"});
    EXPECT_NE(o.err.find("\"nosuchcommand\" not found in $PATH"), std::string::npos) << o.err;
    expect_nothing_left("c1");
}

TEST_F(Lifecycle, ErrorsAreLoggedAsJsonForConmon) {
    set_args({"/no/such/program"});
    std::string log = dir() + "/log.json";
    Output o = droplet({"--log", log, "--log-format", "json", "run", "--bundle", bundle(), "c1"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("/no/such/program"), std::string::npos) << o.err;
    auto line = nlohmann::json::parse(trim(read_file_text(log)));
    EXPECT_EQ(line["level"], "error");
    EXPECT_NE(line["msg"].get<std::string>().find("/no/such/program"), std::string::npos);
}

TEST_F(Lifecycle, SystemdCgroupWithoutSystemdIsAClearError) {
    if (::access("/run/systemd/system", F_OK) == 0)
        GTEST_SKIP() << "this host runs systemd (tests/integration covers --systemd-cgroup)";
    set_args({"echo", "ran"});
    Output o = droplet({"--systemd-cgroup", "run", "--bundle", bundle(), "c1"});
    EXPECT_NE(o.status, 0);
    EXPECT_EQ(o.out, "");
    EXPECT_NE(o.err.find("--systemd-cgroup: cannot reach systemd"), std::string::npos) << o.err;
}

TEST_F(Lifecycle, VersionSpecAndFeatures) {
    Output v = droplet({"--version"});
    EXPECT_EQ(v.status, 0);
    EXPECT_EQ(v.out.rfind("droplet version ", 0), 0u) << v.out;
    auto features = nlohmann::json::parse(droplet({"features"}).out);
    EXPECT_EQ(features["ociVersionMin"], "1.0.0");
    auto ns = features["linux"]["namespaces"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(ns.begin(), ns.end(), "time"), ns.end());
    EXPECT_EQ(features["hooks"].size(), 6u);
    // spec refuses to overwrite a config.json.
    Output again = droplet({"spec", "--bundle", bundle()});
    EXPECT_NE(again.status, 0);
    EXPECT_NE(again.err.find("already exists"), std::string::npos);
}

// The init and the short-lived process that forks it report on one socket; on a busy machine the
// init once reported `created` before its pid had arrived, and `start` found a container
// "stopped, not created" with pid 0 in state.json. Busy the CPUs and create many in a row.
TEST_F(Lifecycle, CreateRecordsTheInitPidOnABusyMachine) {
    std::atomic<bool> busy{true};
    std::vector<std::thread> burners;
    for (int i = 0; i < 2; ++i)
        burners.emplace_back([&busy] {
            while (busy.load(std::memory_order_relaxed)) {
            }
        });
    set_args({"true"});
    write_config();
    int bad = 0;
    for (int i = 0; i < 40 && bad == 0; ++i) {
        std::string id = "busy" + std::to_string(i);
        Output created = create(id);
        EXPECT_EQ(created.status, 0) << created.err;
        nlohmann::json st = state(id);
        if (st.value("status", "") != "created" || st.value("pid", 0) <= 0) {
            ++bad;
            ADD_FAILURE() << "after create #" << i << ": " << st.dump();
        }
        Output started = droplet({"start", id});
        EXPECT_EQ(started.status, 0) << started.err;
        droplet({"delete", "--force", id});
    }
    busy = false;
    for (auto& t : burners)
        t.join();
}

} // namespace
} // namespace droplet::test
