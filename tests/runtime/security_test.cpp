// seccomp and AppArmor through the real droplet binary: busybox containers with a profile, as a
// user of `droplet run`/`exec` sees them, and what a refused profile leaves behind (nothing).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/apparmor.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rootfs_harness.hpp"
#include "spec.hpp"

using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

namespace droplet::test {
namespace {

namespace fs = std::filesystem;

struct Outcome {
    int status = -1; // exit status, or 128 + signal like a shell
    std::string out, err;
};

std::string droplet_path() {
    const char* path = std::getenv("DROPLET");
    return path ? path : "droplet";
}

std::string read_all(int fd) {
    std::string text;
    char buf[4096];
    ssize_t n;
    for (off_t at = 0; (n = pread(fd, buf, sizeof buf, at)) > 0; at += n)
        text.append(buf, static_cast<size_t>(n));
    return text;
}

// Runs droplet with its stdout and stderr captured in memory files rather than pipes: a
// detached container keeps droplet's stdio, and must not keep the test waiting for EOF.
Outcome run_droplet(const std::vector<std::string>& args) {
    int out = memfd_create("droplet-stdout", MFD_CLOEXEC);
    int err = memfd_create("droplet-stderr", MFD_CLOEXEC);
    if (out < 0 || err < 0)
        throw std::runtime_error("memfd_create");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out, 1);
        dup2(err, 2);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        std::vector<char*> argv;
        std::string program = droplet_path();
        argv.push_back(program.data());
        for (const std::string& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(program.c_str(), argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Outcome o;
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = read_all(out);
    o.err = read_all(err);
    close(out);
    close(err);
    return o;
}

// A busybox bundle from droplet's own default spec, with a writable root and no terminal.
class Bundle {
public:
    Bundle() {
        for (const char* tool : {"mkdir", "echo", "grep", "sleep"})
            if (!fs::exists(fs::symlink_status(rootfs_.rootfs() + "/bin/" + tool)))
                fs::create_symlink("busybox", rootfs_.rootfs() + "/bin/" + tool);
        config = default_spec(false);
        config["process"]["terminal"] = false;
        config["root"]["readonly"] = false;
        config["linux"].erase("resources");
    }
    std::string dir() const { return rootfs_.dir(); }
    std::string state_root() const { return rootfs_.dir() + "/state"; }
    void args(std::vector<std::string> argv) { config["process"]["args"] = std::move(argv); }
    void seccomp(json profile) { config["linux"]["seccomp"] = std::move(profile); }
    void write() const { std::ofstream(dir() + "/config.json") << config.dump(2); }

    Outcome droplet(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--root", state_root()});
        return run_droplet(args);
    }
    // `droplet run` in the foreground.
    Outcome run(const std::string& id) const {
        write();
        return droplet({"run", "--bundle", dir(), id});
    }

    // The user namespace variant: ids 0-65535 mapped to 100000+, the rootfs owned by the mapped root.
    void use_user_namespace() {
        config["linux"]["namespaces"].push_back({{"type", "user"}});
        config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        for (const auto& entry : fs::recursive_directory_iterator(rootfs_.rootfs()))
            lchown(entry.path().c_str(), 100000, 100000);
        lchown(rootfs_.rootfs().c_str(), 100000, 100000);
        // The mapped root may walk into the bundle (mkdtemp made it 0700).
        chmod(rootfs_.dir().c_str(), 0755);
    }

    json config;

private:
    TempRootfs rootfs_;
};

json allow_except(json rules) { return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", std::move(rules)}}; }

json deny_mkdir(int err = 0) {
    json rule = {{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}};
    if (err)
        rule["errnoRet"] = err;
    return allow_except({rule});
}

class SecurityTest : public testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root";
        // Whatever droplet leaves running is re-parented to us, so the tests can see it.
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    void TearDown() override {
        // Nothing may outlive a test: a stray process would be our child now.
        pid_t stray = waitpid(-1, nullptr, WNOHANG);
        EXPECT_TRUE(stray < 0 && errno == ECHILD) << "a process outlived the test (waitpid: " << stray << ")";
    }
};

TEST_F(SecurityTest, MkdirDeniedWithEpermWhileTheRestWorks) {
    Bundle b;
    b.seccomp(deny_mkdir());
    b.args({"sh", "-c", "echo written > /tmp/file && cat /tmp/file; mkdir /tmp/x; echo mkdir=$?; ls -d /tmp/x"});
    Outcome o = b.run("mkdir-eperm");
    EXPECT_EQ(o.status, 1) << o.err; // ls: no /tmp/x
    EXPECT_EQ(o.out, "written\nmkdir=1\n");
    EXPECT_THAT(o.err, HasSubstr("mkdir: can't create directory '/tmp/x': Operation not permitted"));
    EXPECT_THAT(o.err, HasSubstr("/tmp/x: No such file or directory"));

    // The same container without the profile makes the directory.
    b.config["linux"].erase("seccomp");
    Outcome plain = b.run("mkdir-plain");
    EXPECT_EQ(plain.status, 0) << plain.err;
    EXPECT_EQ(plain.out, "written\nmkdir=0\n/tmp/x\n");
}

TEST_F(SecurityTest, GetpidKillsTheProcessWithSigsys) {
    Bundle b;
    b.seccomp(allow_except({{{"names", {"getpid"}}, {"action", "SCMP_ACT_KILL"}}}));
    // busybox echo never asks for its pid; the shell does as it starts.
    b.args({"echo", "alive"});
    Outcome echo = b.run("getpid-echo");
    EXPECT_EQ(echo.status, 0) << echo.err;
    EXPECT_EQ(echo.out, "alive\n");
    b.args({"sh", "-c", "echo never printed"});
    Outcome sh = b.run("getpid-sh");
    EXPECT_EQ(sh.status, 128 + SIGSYS) << sh.err;
    EXPECT_EQ(sh.out, "");
}

TEST_F(SecurityTest, DefaultErrnoWithAnAllowList) {
    Bundle b;
    // What busybox needs to start, read and write files, and report an error; nothing else.
    json allowed = {"execve",    "arch_prctl", "brk",        "mmap",       "munmap",          "mprotect",
                    "close",     "exit_group", "exit",       "getrandom",  "getuid",          "geteuid",
                    "prctl",     "prlimit64",  "readlink",   "rseq",       "set_robust_list", "set_tid_address",
                    "openat",    "read",       "write",      "writev",     "sendfile",        "fstat",
                    "newfstatat", "ioctl",     "rt_sigprocmask", "rt_sigaction", "lseek"};
    b.seccomp({{"defaultAction", "SCMP_ACT_ERRNO"},
               {"defaultErrnoRet", ENOSPC},
               {"syscalls", {{{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}}}}});
    b.args({"cat", "/etc/hostname"});
    Outcome cat = b.run("allowlist-cat");
    EXPECT_EQ(cat.status, 0) << cat.err;
    EXPECT_EQ(cat.out, "image\n");
    b.args({"mkdir", "/tmp/x"});
    Outcome mkdir = b.run("allowlist-mkdir");
    EXPECT_EQ(mkdir.status, 1);
    EXPECT_THAT(mkdir.err, HasSubstr("mkdir: can't create directory '/tmp/x': No space left on device"));
    EXPECT_FALSE(fs::exists(b.dir() + "/rootfs/tmp/x"));
}

// Without noNewPrivileges the filter goes in before the user switch, so everything droplet does
// after it must be allowed by the profile. A profile that predates close_range (runtime-tools'
// default, older Docker ones) must still start the container: droplet closes its fds first.
TEST_F(SecurityTest, AProfileWithoutCloseRangeStillStartsWithoutNoNewPrivileges) {
    Bundle b;
    json allowed = {"execve",    "arch_prctl", "brk",        "mmap",       "munmap",          "mprotect",
                    "close",     "exit_group", "exit",       "getrandom",  "getuid",          "geteuid",
                    "prctl",     "prlimit64",  "readlink",   "rseq",       "set_robust_list", "set_tid_address",
                    "openat",    "read",       "write",      "writev",     "sendfile",        "fstat",
                    "newfstatat", "ioctl",     "rt_sigprocmask", "rt_sigaction", "lseek",     "fcntl",
                    "setgroups", "setresgid",  "setresuid",  "capget",     "capset",          "umask"};
    b.seccomp({{"defaultAction", "SCMP_ACT_ERRNO"}, {"syscalls", {{{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}}}}});
    b.config["process"]["noNewPrivileges"] = false;
    b.args({"cat", "/etc/hostname"});
    Outcome cat = b.run("no-close-range");
    EXPECT_EQ(cat.status, 0) << cat.err;
    EXPECT_EQ(cat.out, "image\n");
    EXPECT_EQ(cat.err, "");
}

// A seccomp agent: takes the container process state and the listener fd, then answers every
// notified syscall with EOPNOTSUPP until the filter's last process is gone.
struct AgentReport {
    std::string state;
    bool got_fd = false;
    std::vector<std::string> notified;
    std::string error;
};

AgentReport run_agent(int listen_fd) {
    AgentReport r;
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 20000) <= 0)
        return r.error = "no connection from droplet", r;
    int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    char control[CMSG_SPACE(sizeof(int))] = {};
    char buf[8192];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    int listener = -1;
    if (cmsghdr* c = CMSG_FIRSTHDR(&msg); c && c->cmsg_type == SCM_RIGHTS) {
        std::memcpy(&listener, CMSG_DATA(c), sizeof(int));
        r.got_fd = true;
    }
    while (n > 0) { // the runtime closes the connection after one state
        r.state.append(buf, static_cast<size_t>(n));
        n = read(conn, buf, sizeof buf);
    }
    close(conn);
    if (listener < 0)
        return r.error = "no fd with the state", r;
    seccomp_notif* req = nullptr;
    seccomp_notif_resp* resp = nullptr;
    seccomp_notify_alloc(&req, &resp);
    for (;;) {
        pollfd l{listener, POLLIN, 0};
        if (poll(&l, 1, 20000) <= 0 || !(l.revents & POLLIN))
            break; // POLLHUP: no process uses the filter any more
        std::memset(req, 0, sizeof *req);
        if (seccomp_notify_receive(listener, req) != 0)
            continue;
        char* name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
        r.notified.push_back(name ? name : "?");
        free(name);
        std::memset(resp, 0, sizeof *resp);
        resp->id = req->id;
        resp->error = -EOPNOTSUPP;
        seccomp_notify_respond(listener, resp);
    }
    seccomp_notify_free(req, resp);
    close(listener);
    return r;
}

TEST_F(SecurityTest, NotifyAgentGetsTheListenerFdAndAnswers) {
    Bundle b;
    std::string socket_path = b.dir() + "/agent.sock";
    int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_path.c_str());
    ASSERT_EQ(bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listen_fd, 1), 0);
    std::future<AgentReport> agent = std::async(std::launch::async, run_agent, listen_fd);

    json profile = allow_except({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}});
    profile["listenerPath"] = socket_path;
    profile["listenerMetadata"] = "agent-args=1";
    b.seccomp(profile);
    b.config["annotations"] = {{"org.example.test", "notify"}};
    b.args({"sh", "-c", "mkdir /tmp/x; echo mkdir=$?; ls -d /tmp/x"});
    b.write();
    std::string pid_file = b.dir() + "/pid";
    Outcome o = b.droplet({"run", "--bundle", b.dir(), "--pid-file", pid_file, "notify"});
    AgentReport report = agent.get();
    close(listen_fd);

    ASSERT_EQ(report.error, "");
    EXPECT_TRUE(report.got_fd);
    EXPECT_EQ(o.out, "mkdir=1\n");
    EXPECT_THAT(o.err, HasSubstr("mkdir: can't create directory '/tmp/x': Operation not supported"));
    EXPECT_THAT(report.notified, testing::Contains(testing::AnyOf("mkdir", "mkdirat")));

    json state = json::parse(report.state);
    int pid = std::stoi(read_text(pid_file));
    EXPECT_EQ(state["fds"], json({"seccompFd"}));
    EXPECT_EQ(state["pid"], pid);
    EXPECT_EQ(state["metadata"], "agent-args=1");
    EXPECT_EQ(state["ociVersion"], "1.2.0");
    EXPECT_EQ(state["state"]["id"], "notify");
    EXPECT_EQ(state["state"]["status"], "creating");
    EXPECT_EQ(state["state"]["pid"], pid);
    EXPECT_EQ(state["state"]["bundle"], b.dir());
    EXPECT_EQ(state["state"]["annotations"]["org.example.test"], "notify");
}

TEST_F(SecurityTest, ExecSendsItsOwnListenerFd) {
    Bundle b;
    std::string socket_path = b.dir() + "/agent.sock";
    int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_path.c_str());
    ASSERT_EQ(bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listen_fd, 2), 0);
    // One agent per connection: the container's init, then the exec'd process.
    std::future<AgentReport> first = std::async(std::launch::async, run_agent, listen_fd);
    std::future<AgentReport> second = std::async(std::launch::async, run_agent, listen_fd);

    json profile = allow_except({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}});
    profile["listenerPath"] = socket_path;
    b.seccomp(profile);
    b.args({"sleep", "60"});
    b.write();
    std::string init_pid_file = b.dir() + "/init.pid", exec_pid_file = b.dir() + "/exec.pid";
    Outcome run = b.droplet({"run", "--detach", "--pid-file", init_pid_file, "--bundle", b.dir(), "notify-exec"});
    ASSERT_EQ(run.status, 0) << run.err;
    Outcome exec = b.droplet({"exec", "--pid-file", exec_pid_file, "notify-exec", "sh", "-c",
                              "mkdir /tmp/e; echo mkdir=$?"});
    Outcome deleted = b.droplet({"delete", "--force", "notify-exec"});
    EXPECT_EQ(deleted.status, 0) << deleted.err;
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::vector<AgentReport> reports = {first.get(), second.get()};
    close(listen_fd);

    EXPECT_EQ(exec.out, "mkdir=1\n");
    EXPECT_THAT(exec.err, HasSubstr("mkdir: can't create directory '/tmp/e': Operation not supported"));
    int init_pid = std::stoi(read_text(init_pid_file)), exec_pid = std::stoi(read_text(exec_pid_file));
    std::map<int, json> by_pid;
    for (const AgentReport& r : reports) {
        ASSERT_EQ(r.error, "");
        json state = json::parse(r.state);
        by_pid[state["pid"].get<int>()] = state;
    }
    ASSERT_EQ(by_pid.count(init_pid), 1u);
    ASSERT_EQ(by_pid.count(exec_pid), 1u);
    EXPECT_EQ(by_pid[init_pid]["state"]["status"], "creating");
    EXPECT_EQ(by_pid[exec_pid]["state"]["status"], "running");
    EXPECT_EQ(by_pid[exec_pid]["state"]["id"], "notify-exec");
    EXPECT_EQ(by_pid[exec_pid]["fds"], json({"seccompFd"}));
}

TEST_F(SecurityTest, BadProfilesFailCreateAndLeaveNothing) {
    struct Case {
        json profile;
        std::string error;
    };
    std::vector<Case> cases = {
        {allow_except({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_FOO"}}}),
         "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\""},
        {allow_except({{{"names", {"mkdir"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"args", {{{"index", 9}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}}),
         "linux.seccomp.syscalls[0].args[0].index: 9 is out of range (a syscall has arguments 0-5)"},
        {allow_except({{{"names", {"mkdir"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_ABOUT"}}}}}}),
         "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\""},
        {{{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", json::array()}},
         "linux.seccomp.architectures: must list at least one architecture (leave it out for the native one)"},
        {{{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerPath", "/nonexistent/agent.sock"},
          {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}},
         "linux.seccomp.listenerPath: connect to /nonexistent/agent.sock: No such file or directory"},
    };
    Bundle b;
    b.args({"sh", "-c", "exit 0"});
    for (const Case& c : cases) {
        b.seccomp(c.profile);
        b.write();
        Outcome o = b.droplet({"create", "--bundle", b.dir(), "bad"});
        EXPECT_EQ(o.status, 1) << c.error;
        EXPECT_EQ(o.err, "droplet: " + c.error + "\n");
        EXPECT_FALSE(fs::exists(b.state_root() + "/bad")) << c.error;
        EXPECT_EQ(host_mounts_mentioning(b.dir()), "") << c.error;
        Outcome state = b.droplet({"state", "bad"});
        EXPECT_THAT(state.err, HasSubstr("does not exist"));
    }
    if (aa_is_enabled() != 1) {
        b.config["linux"].erase("seccomp");
        b.config["process"]["apparmorProfile"] = "droplet-test";
        b.write();
        Outcome o = b.droplet({"create", "--bundle", b.dir(), "bad"});
        EXPECT_EQ(o.status, 1);
        EXPECT_EQ(o.err, "droplet: process.apparmorProfile \"droplet-test\": AppArmor is not enabled on this kernel\n");
        EXPECT_FALSE(fs::exists(b.state_root() + "/bad"));
        EXPECT_EQ(host_mounts_mentioning(b.dir()), "");
    }
}

// Without noNewPrivileges the filter must be loaded while the process still has CAP_SYS_ADMIN
// (the default spec keeps only three capabilities), and masked/read-only paths stay in force.
void expect_confined_container(Bundle& b, const std::string& id, const char* no_new_privs) {
    b.seccomp(deny_mkdir());
    b.args({"sh", "-c",
            "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; mkdir /tmp/x; "
            "echo > /proc/sys/kernel/hostname; ls /sys/firmware | grep -c . ; cat /proc/kcore | grep -c ."});
    Outcome o = b.run(id);
    EXPECT_EQ(o.out, std::string("NoNewPrivs:\t") + no_new_privs + "\nSeccomp:\t2\n0\n0\n") << o.err;
    EXPECT_THAT(o.err, HasSubstr("mkdir: can't create directory '/tmp/x': Operation not permitted"));
    EXPECT_THAT(o.err, HasSubstr("Read-only file system"));
}

TEST_F(SecurityTest, WithoutNoNewPrivilegesAndInAUserNamespace) {
    Bundle b;
    b.config["process"]["noNewPrivileges"] = false;
    expect_confined_container(b, "nnp-off", "0");
    b.use_user_namespace();
    expect_confined_container(b, "userns-nnp-off", "0");
    b.config["process"]["noNewPrivileges"] = true;
    expect_confined_container(b, "userns-nnp-on", "1");
}

TEST_F(SecurityTest, ExecGetsTheContainersFilter) {
    Bundle b;
    b.seccomp(deny_mkdir(ENOSPC));
    b.args({"sleep", "60"});
    b.write();
    Outcome created = b.droplet({"run", "--detach", "--bundle", b.dir(), "exec-filter"});
    ASSERT_EQ(created.status, 0) << created.err;
    Outcome exec = b.droplet({"exec", "exec-filter", "mkdir", "/tmp/y"});
    Outcome status = b.droplet({"exec", "exec-filter", "grep", "^Seccomp:", "/proc/self/status"});
    Outcome deleted = b.droplet({"delete", "--force", "exec-filter"});
    EXPECT_EQ(exec.status, 1);
    EXPECT_THAT(exec.err, HasSubstr("mkdir: can't create directory '/tmp/y': No space left on device"));
    EXPECT_EQ(status.out, "Seccomp:\t2\n");
    EXPECT_EQ(deleted.status, 0) << deleted.err;
    // The detached init was re-parented to this test: reap it.
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

} // namespace
} // namespace droplet::test
