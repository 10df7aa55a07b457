// droplet-shim driving the real droplet (and runc) on busybox bundles.
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "control.hpp"
#include "error.hpp"
#include "droplet_harness.hpp"
#include "log_reader.hpp"

using namespace droplet::test;

namespace {

std::string shim_path() {
    const char* p = std::getenv("DROPLET_SHIM");
    return p ? p : "droplet-shim";
}

std::string runtime_path(const std::string& name) { return name == "droplet" ? droplet_path() : "/usr/bin/" + name; }

// Reads from `fd` until `needle` shows up (or ~5 s pass); returns all that was read.
std::string read_until(int fd, const std::string& needle, bool framed = false) {
    std::string raw, out, err;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        if ((framed ? out : raw).find(needle) != std::string::npos)
            break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        char buf[4096];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        raw.append(buf, static_cast<size_t>(n));
        if (framed)
            shim::unframe(raw, out, err);
    }
    return framed ? out : raw;
}

class ShimTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() != "droplet" && ::access(runtime_path(GetParam()).c_str(), X_OK) != 0)
            GTEST_SKIP() << GetParam() << " is not installed";
        ::mkdir(state_dir().c_str(), 0700);
    }
    void TearDown() override {
        // Whatever a failed test left running is stopped by its shim.
        try {
            shim::stop(state_dir(), SIGKILL, 0);
            shim::wait(state_dir());
        } catch (const std::exception&) {
        }
        if (GetParam() != "droplet")
            spawn({runtime_path(GetParam()), "--root", t.state_root(), "delete", "--force", id()});
    }

    std::string state_dir() const { return t.dir() + "/shim"; }
    // Unique per test: runc names host cgroups after the id, and a previous container's may
    // still be going away.
    std::string id() const { return "shim-" + t.dir().substr(t.dir().size() - 6); }
    std::string log_path() const { return t.dir() + "/ctr.log"; }

    Output launch(std::vector<std::string> extra) {
        t.write_config();
        std::vector<std::string> argv{shim_path(), "--id", id(), "--bundle", t.bundle(), "--state-dir", state_dir(),
                                      "--runtime", runtime_path(GetParam()), "--runtime-arg=--root",
                                      "--runtime-arg=" + t.state_root(), "--log-path", log_path(), "--journald", "no"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return spawn(argv);
    }

    nlohmann::json shim_state() {
        std::string text = read_file_text(state_dir() + "/shim.json");
        return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
    }
    nlohmann::json exit_record() {
        std::string text = read_file_text(state_dir() + "/exit");
        return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
    }
    // The container's final status, through the control socket (or the exit file once the shim is gone).
    int wait_exit() {
        try {
            return shim::wait(state_dir());
        } catch (const std::exception&) {
            return exit_record().value("status", -1);
        }
    }
    std::vector<std::string> log_lines(const std::string& stream) {
        std::vector<std::string> lines;
        for (const shim::LogEntry& e : shim::read_log(log_path()))
            if (e.stream == stream)
                lines.push_back(e.text);
        return lines;
    }
    bool wait_until(const std::function<bool()>& condition, int ms = 5000) {
        for (int i = 0; i < ms / 20; ++i) {
            if (condition())
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            reap_zombies();
        }
        return condition();
    }

    DropletTest t;
};

TEST_P(ShimTest, OutputReachesTheLogInOrderWithStreamTagsAndNoOneElse) {
    t.set_args({"sh", "-c", "echo one; echo two >&2; echo three; printf 'no newline'; echo four >&2; exit 3"});
    Output o = launch({"--start"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err, "");
    EXPECT_EQ(wait_exit(), 3);
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"one", "three", "no newline"}));
    EXPECT_EQ(log_lines("stderr"), (std::vector<std::string>{"two", "four"}));
    EXPECT_EQ(exit_record()["exit_code"], 3);
    EXPECT_TRUE(exit_record()["signal"].is_null());
    EXPECT_EQ(shim_state()["status"], "exited");
    // The runtime's container is deleted once it exited; the shim is gone.
    EXPECT_TRUE(wait_until([&] { return !process_exists(shim_state().value("shim_pid", 0)); }));
    t.expect_nothing_left(id());
}

TEST_P(ShimTest, ManyLinesArriveWholeAndInOrder) {
    // Reads split lines anywhere; the reader joins the fragments again.
    t.set_args({"seq", "1", "50000"});
    ASSERT_EQ(launch({"--start"}).status, 0);
    EXPECT_EQ(wait_exit(), 0);
    std::vector<std::string> lines = log_lines("stdout");
    ASSERT_EQ(lines.size(), 50000u);
    for (size_t i = 0; i < lines.size(); ++i)
        ASSERT_EQ(lines[i], std::to_string(i + 1));
}

TEST_P(ShimTest, RecordsTheSignalThatKilledTheContainer) {
    // A container's init cannot be killed from inside; the kernel (OOM) or the host does it.
    t.set_args({"sleep", "300"});
    ASSERT_EQ(launch({"--start"}).status, 0);
    ASSERT_EQ(::kill(shim_state().value("container_pid", 0), SIGKILL), 0);
    EXPECT_EQ(wait_exit(), 137);
    EXPECT_EQ(exit_record()["signal"], 9);
    EXPECT_TRUE(exit_record()["exit_code"].is_null());
}

TEST_P(ShimTest, ContainerKeepsRunningAfterTheCallerExitsAndStopEndsIt) {
    t.set_args({"sleep", "300"});
    Output o = launch({});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(shim_state()["status"], "created");
    shim::start(state_dir());
    nlohmann::json s = shim_state();
    EXPECT_EQ(s["status"], "running");
    pid_t container = s["container_pid"], shim_pid = s["shim_pid"];
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(process_exists(container));
    EXPECT_TRUE(process_exists(shim_pid));
    EXPECT_EQ(read_file_text("/proc/" + std::to_string(container) + "/status").find("PPid:\t" + std::to_string(shim_pid)) !=
                  std::string::npos,
              true)
        << "the container's init is the shim's child";
    // sleep as pid 1 ignores SIGTERM: the stop timeout ends it with SIGKILL.
    auto begin = std::chrono::steady_clock::now();
    shim::stop(state_dir(), SIGTERM, 1);
    EXPECT_EQ(wait_exit(), 137);
    EXPECT_GE(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(900));
    EXPECT_TRUE(wait_until([&] { return !process_exists(shim_pid) && !process_exists(container); }));
    t.expect_nothing_left(id());
}

TEST_P(ShimTest, HoldsNoFileOfItsCaller) {
    t.set_args({"sleep", "300"});
    int inherited[2];
    ASSERT_EQ(::pipe(inherited), 0); // not close-on-exec: the shim's launcher gets it
    SpawnOptions keep;
    keep.keep_fds = {inherited[0], inherited[1]};
    t.write_config();
    Output o = spawn({shim_path(), "--id", id(), "--bundle", t.bundle(), "--state-dir", state_dir(), "--runtime",
                      runtime_path(GetParam()), "--runtime-arg=--root", "--runtime-arg=" + t.state_root(), "--start",
                      "--journald", "no"},
                     keep);
    ::close(inherited[1]);
    ASSERT_EQ(o.status, 0) << o.err;
    // The read end sees EOF only when no process (shim, runtime, container) kept the write end.
    pollfd p{inherited[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    char c;
    EXPECT_EQ(::read(inherited[0], &c, 1), 0);
    ::close(inherited[0]);
}

TEST_P(ShimTest, AttachGetsARealTerminal) {
    t.config()["process"]["terminal"] = true;
    t.set_args({"sh"});
    Output o = launch({"--terminal"});
    ASSERT_EQ(o.status, 0) << o.err;
    shim::Attached a = shim::attach(state_dir());
    ASSERT_TRUE(a.tty);
    ASSERT_TRUE(a.master);
    EXPECT_TRUE(::isatty(a.master.get()));
    shim::start(state_dir());
    auto type = [&](const std::string& s) {
        ASSERT_EQ(::write(a.stream.get(), s.data(), s.size()), static_cast<ssize_t>(s.size()));
    };
    type("tty\n");
    EXPECT_NE(read_until(a.stream.get(), "/dev/pts/").find("/dev/pts/"), std::string::npos);
    winsize size{33, 77, 0, 0};
    ASSERT_EQ(::ioctl(a.master.get(), TIOCSWINSZ, &size), 0);
    type("stty size\n");
    EXPECT_NE(read_until(a.stream.get(), "33 77").find("33 77"), std::string::npos);
    auto begin = std::chrono::steady_clock::now();
    type("sleep 30\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    type("\x03");
    type("echo after$((40+2))\n");
    EXPECT_NE(read_until(a.stream.get(), "after42").find("after42"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(10)) << "^C did not interrupt sleep";
    type("exit 5\n");
    EXPECT_EQ(wait_exit(), 5);
    std::string logged;
    for (const std::string& line : log_lines("stdout"))
        logged += line + "\n";
    EXPECT_NE(logged.find("after42"), std::string::npos) << logged;
}

TEST_P(ShimTest, ExecGivesTheClientItsTerminalOrPipesAndStatus) {
    t.set_args({"sleep", "300"});
    ASSERT_EQ(launch({"--start"}).status, 0);
    auto process_file = [&](bool terminal, const std::vector<std::string>& args) {
        nlohmann::json process = t.config()["process"];
        process["terminal"] = terminal;
        process["args"] = args;
        std::string path = t.dir() + (terminal ? "/exec-tty.json" : "/exec-pipes.json");
        write_file_text(path, process.dump());
        return path;
    };

    shim::ExecSession tty =
        shim::exec(state_dir(), process_file(true, {"sh", "-c", "tty; read x; echo got $x; exit 4"}), true);
    EXPECT_TRUE(::isatty(tty.master.get()));
    EXPECT_GT(tty.pid, 0);
    ASSERT_EQ(::write(tty.master.get(), "hello\n", 6), 6);
    std::string seen = read_until(tty.master.get(), "got hello");
    EXPECT_NE(seen.find("/dev/pts/"), std::string::npos) << seen;
    EXPECT_NE(seen.find("got hello"), std::string::npos) << seen;
    EXPECT_EQ(tty.wait(), 4);

    shim::ExecSession pipes =
        shim::exec(state_dir(), process_file(false, {"sh", "-c", "cat; echo oops >&2; exit 2"}), false);
    ASSERT_EQ(::write(pipes.stdin_fd.get(), "abc\n", 4), 4);
    pipes.stdin_fd.reset();
    EXPECT_EQ(read_until(pipes.stdout_fd.get(), "never"), "abc\n");
    EXPECT_EQ(read_until(pipes.stderr_fd.get(), "never"), "oops\n");
    EXPECT_EQ(pipes.wait(), 2);
    // The exec's output is its client's, not the container's log.
    EXPECT_TRUE(log_lines("stdout").empty());
    EXPECT_EQ(shim_state()["status"], "running");

    try {
        shim::exec(state_dir(), t.dir() + "/missing.json", false);
        ADD_FAILURE() << "exec of a missing process.json succeeded";
    } catch (const raind::Error& e) {
        EXPECT_NE(std::string(e.what()).find("exec failed"), std::string::npos) << e.what();
    }
}

TEST_P(ShimTest, StdinPipesWorkWithoutATerminal) {
    t.set_args({"sh", "-c", "while read line; do echo \"got $line\"; done; echo done >&2"});
    ASSERT_EQ(launch({"--stdin", "--stdin-once"}).status, 0);
    shim::Attached a = shim::attach(state_dir());
    ASSERT_FALSE(a.tty);
    EXPECT_FALSE(a.master);
    shim::start(state_dir());
    std::string input = "alpha\nbeta\n";
    ASSERT_EQ(::write(a.stream.get(), input.data(), input.size()), static_cast<ssize_t>(input.size()));
    EXPECT_EQ(read_until(a.stream.get(), "got beta\n", true), "got alpha\ngot beta\n");
    ::shutdown(a.stream.get(), SHUT_WR); // end of input closes the container's stdin (--stdin-once)
    EXPECT_EQ(wait_exit(), 0);
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"got alpha", "got beta"}));
    EXPECT_EQ(log_lines("stderr"), (std::vector<std::string>{"done"}));
}

TEST_P(ShimTest, OnFailureTwoRestartsExactlyTwice) {
    t.set_args({"sh", "-c", "echo run; exit 1"});
    ASSERT_EQ(launch({"--start", "--restart", "on-failure:2"}).status, 0);
    EXPECT_EQ(wait_exit(), 1);
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"run", "run", "run"}));
    EXPECT_EQ(exit_record()["restarts"], 2);
    t.expect_nothing_left(id());
}

TEST_P(ShimTest, NoPolicyDoesNotRestart) {
    t.set_args({"sh", "-c", "echo run; exit 1"});
    ASSERT_EQ(launch({"--start", "--restart", "no"}).status, 0);
    EXPECT_EQ(wait_exit(), 1);
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"run"}));
}

TEST_P(ShimTest, AlwaysRestartsUntilStopped) {
    t.set_args({"sh", "-c", "echo run; exit 0"});
    ASSERT_EQ(launch({"--start", "--restart", "always"}).status, 0);
    EXPECT_TRUE(wait_until([&] { return log_lines("stdout").size() >= 3; }));
    shim::stop(state_dir(), SIGKILL, 0);
    wait_exit();
    size_t runs = log_lines("stdout").size();
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    EXPECT_EQ(log_lines("stdout").size(), runs) << "restarted after stop";
    EXPECT_TRUE(shim_state()["stop_requested"]);
    t.expect_nothing_left(id());
}

TEST_P(ShimTest, StopMarkerFileStopsRestarts) {
    // What condenser writes before `systemctl stop raind-<id>.scope`, where no command reaches the shim.
    t.set_args({"sh", "-c", "echo run; sleep 0.3; exit 1"});
    ASSERT_EQ(launch({"--start", "--restart", "always"}).status, 0);
    write_file_text(state_dir() + "/stop", "");
    EXPECT_EQ(wait_exit(), 1);
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"run"}));
}

TEST_P(ShimTest, SigtermToTheShimStopsTheContainer) {
    t.set_args({"sh", "-c", "trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done"});
    ASSERT_EQ(launch({"--start", "--restart", "always"}).status, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(::kill(shim_state().value("shim_pid", 0), SIGTERM), 0);
    EXPECT_EQ(wait_exit(), 0);
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"bye"}));
    t.expect_nothing_left(id());
}

TEST_P(ShimTest, RemoveLeavesNothingBehind) {
    t.set_args({"sh", "-c", "echo hi; exit 7"});
    ASSERT_EQ(launch({"--rm"}).status, 0);
    pid_t shim_pid = shim_state().value("shim_pid", 0);
    pid_t container = shim_state().value("container_pid", 0);
    shim::WaitRequest wait(state_dir());
    shim::start(state_dir());
    EXPECT_EQ(wait.result(), 7);
    EXPECT_TRUE(wait_until([&] { return !process_exists(shim_pid); }));
    struct stat st{};
    EXPECT_NE(::stat(state_dir().c_str(), &st), 0) << "the shim's state dir is left";
    EXPECT_EQ(log_lines("stdout"), (std::vector<std::string>{"hi"}));
    t.expect_nothing_left(id(), container);
}

TEST_P(ShimTest, CreateFailureReportsTheRuntimeErrorAndLeavesNothing) {
    t.config()["root"]["path"] = t.dir() + "/no-such-rootfs";
    Output o = launch({"--start"});
    EXPECT_EQ(o.status, 1);
    EXPECT_NE(o.err.find("create failed"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("no-such-rootfs"), std::string::npos) << o.err;
    struct stat st{};
    EXPECT_NE(::stat((state_dir() + "/shim.json").c_str(), &st), 0);
    t.expect_nothing_left(id());
}

INSTANTIATE_TEST_SUITE_P(Runtimes, ShimTest, ::testing::Values("droplet", "runc"),
                         [](const auto& info) { return info.param; });

TEST(ShimCli, BadInputNamesWhatWasWrong) {
    Output o = spawn({shim_path(), "--id", "c", "--bundle", "/", "--state-dir", "/tmp", "--runtime", "/bin/true",
                      "--restart", "sometimes"});
    EXPECT_EQ(o.status, 2);
    EXPECT_NE(o.err.find("invalid restart policy 'sometimes'"), std::string::npos) << o.err;
    o = spawn({shim_path(), "--id", "c", "--bundle", "/nonexistent-bundle", "--state-dir", "/tmp", "--runtime",
               "/bin/true"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("nonexistent-bundle"), std::string::npos) << o.err;
}

} // namespace

namespace {

// A real journald in a private mount namespace (tmpfs on its /run and /var directories, so
// the host's journal is never touched), the shim sending to it, journalctl reading back.
TEST(ShimJournal, LinesReachJournaldWithContainerFields) {
    if (::access("/lib/systemd/systemd-journald", X_OK) != 0)
        GTEST_SKIP() << "systemd-journald is not installed";
    DropletTest t;
    t.set_args({"sh", "-c", "echo to the journal; echo trouble >&2"});
    t.write_config();
    std::string state_dir = t.dir() + "/shim";
    ::mkdir(state_dir.c_str(), 0700);
    std::string script = R"(
set -e
mount --make-rprivate /
for d in /run/systemd /run/log /var/log/journal; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
mkdir -p /run/systemd/journal
/lib/systemd/systemd-journald & journald=$!
trap 'kill $journald' EXIT
for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
"$SHIM" --id jc --name web --bundle "$DIR/bundle" --state-dir "$DIR/shim" --runtime "$DROPLET" \
  --runtime-arg=--root --runtime-arg="$DIR/state" --start
for i in $(seq 100); do [ -e "$DIR/shim/exit" ] && break; sleep 0.05; done
journalctl -D /run/log/journal --no-pager -o json CONTAINER_ID=jc
)";
    SpawnOptions env;
    env.env = {"SHIM=" + shim_path(), "DIR=" + t.dir(), "DROPLET=" + droplet_path()};
    Output o = spawn({"timeout", "30", "unshare", "-m", "sh", "-c", script}, env);
    ASSERT_EQ(o.status, 0) << o.err;
    std::vector<nlohmann::json> entries;
    std::istringstream lines(o.out);
    for (std::string line; std::getline(lines, line);)
        entries.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(entries.size(), 2u) << o.out;
    std::map<std::string, nlohmann::json> by_message;
    for (const auto& e : entries)
        by_message[e.value("MESSAGE", "")] = e;
    ASSERT_TRUE(by_message.count("to the journal")) << o.out;
    ASSERT_TRUE(by_message.count("trouble")) << o.out;
    EXPECT_EQ(by_message["to the journal"]["CONTAINER_NAME"], "web");
    EXPECT_EQ(by_message["to the journal"]["SYSLOG_IDENTIFIER"], "web");
    EXPECT_EQ(by_message["to the journal"]["PRIORITY"], "6");
    EXPECT_EQ(by_message["trouble"]["PRIORITY"], "3");
}

} // namespace
