// linux.seccomp parsing and validation, and what the compiled BPF does once loaded (in a forked
// child with no_new_privs, which needs no privilege).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>

#include "error.hpp"
#include "seccomp.hpp"
#include "state.hpp"

using nlohmann::json;
using testing::HasSubstr;

namespace droplet {
namespace {

std::string compile_error(const json& profile) {
    try {
        compile_seccomp(profile.dump());
    } catch (const raind::Error& e) {
        return e.what();
    }
    return "(compiled)";
}

json allow_with(json syscalls) { return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", std::move(syscalls)}}; }

json errno_rule(const std::vector<std::string>& names, json args = json::array(), int err = 0) {
    json rule = {{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"args", std::move(args)}};
    if (err)
        rule["errnoRet"] = err;
    return rule;
}

json arg(unsigned index, uint64_t value, const char* op, uint64_t value_two = 0) {
    return {{"index", index}, {"value", value}, {"valueTwo", value_two}, {"op", op}};
}

// Loads the profile in a child and runs `probe` there; returns the child's exit status, or
// 1000 + the signal that killed it.
template <typename Probe>
int run_filtered(const json& profile, Probe probe) {
    SeccompSetup setup;
    setup.filter = compile_seccomp(profile.dump());
    Process process;
    process.no_new_privileges = true;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        try {
            apply_seccomp_before_user_switch(&setup, process); // not its turn with no_new_privs
            apply_seccomp_before_exec(&setup, process);
        } catch (...) {
            _exit(99);
        }
        _exit(probe());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : WEXITSTATUS(status);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// errno of a failed raw syscall, 0 on success.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

TEST(SeccompCompile, NoProfileCompilesToNothing) {
    CompiledSeccomp c = compile_seccomp("");
    EXPECT_TRUE(c.program.empty());
    EXPECT_FALSE(c.notify);
}

TEST(SeccompCompile, AProfileBecomesABpfProgram) {
    CompiledSeccomp c = compile_seccomp(allow_with({errno_rule({"mkdir", "mkdirat"})}).dump());
    EXPECT_GT(c.program.size(), 4u);
    EXPECT_EQ(c.flags, 0u);
    EXPECT_FALSE(c.notify);
    EXPECT_TRUE(c.skipped_syscalls.empty());
}

TEST(SeccompCompile, ErrorsNameTheField) {
    json profile = allow_with({errno_rule({"mkdir"}), errno_rule({"rmdir"}),
                               {{"names", {"chdir"}}, {"action", "SCMP_ACT_FOO"}}});
    EXPECT_EQ(compile_error(profile), "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");
    EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_NOPE"}}),
              "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
    EXPECT_EQ(compile_error({{"syscalls", json::array()}}), "linux.seccomp.defaultAction: is required");
    EXPECT_EQ(compile_error(allow_with({{{"names", {"mkdir"}}}})), "linux.seccomp.syscalls[0].action: is required");
}

TEST(SeccompCompile, ErrnoOnlyWithActionsThatReturnOne) {
    EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_ALLOW"}, {"defaultErrnoRet", 1}}),
              "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not return an errno (only SCMP_ACT_ERRNO and "
              "SCMP_ACT_TRACE do)");
    EXPECT_EQ(compile_error(allow_with({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_KILL"}, {"errnoRet", 1}}})),
              "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not return an errno (only SCMP_ACT_ERRNO and "
              "SCMP_ACT_TRACE do)");
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, json::array(), 70000)})),
              "linux.seccomp.syscalls[0].errnoRet: 70000 is out of range (0-65535)");
    EXPECT_EQ(compile_error(allow_with({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_TRACE"}, {"errnoRet", 3}}})),
              "(compiled)");
}

TEST(SeccompCompile, MalformedArgumentFilters) {
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, {arg(0, 1, "SCMP_CMP_SOMETIMES")})})),
              "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_SOMETIMES\"");
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, {arg(1, 1, "SCMP_CMP_EQ"), arg(6, 1, "SCMP_CMP_EQ")})})),
              "linux.seccomp.syscalls[0].args[1].index: 6 is out of range (a syscall has arguments 0-5)");
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, {{{"index", 0}, {"op", "SCMP_CMP_EQ"}}})})),
              "linux.seccomp.syscalls[0].args[0].value: is required");
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, {{{"index", 0}, {"value", -1}, {"op", "SCMP_CMP_EQ"}}})})),
              "linux.seccomp.syscalls[0].args[0].value: must be a non-negative integer, not -1");
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, {{{"index", "0"}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}})})),
              "linux.seccomp.syscalls[0].args[0].index: must be a non-negative integer, not \"0\"");
    EXPECT_EQ(compile_error(allow_with({errno_rule({"mkdir"}, json::object())})),
              "linux.seccomp.syscalls[0].args: must be an array, not {}");
}

TEST(SeccompCompile, ArchitecturesAndFlags) {
    json profile = allow_with({errno_rule({"mkdir"})});
    profile["architectures"] = json::array();
    EXPECT_EQ(compile_error(profile),
              "linux.seccomp.architectures: must list at least one architecture (leave it out for the native one)");
    profile["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
    EXPECT_EQ(compile_error(profile), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
    profile["architectures"] = {"x86_64"};
    EXPECT_EQ(compile_error(profile), "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"");

    // Another architecture is checked in the filter too: the program grows.
    profile["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    size_t three = compile_seccomp(profile.dump()).program.size();
    profile.erase("architectures");
    EXPECT_GT(three, compile_seccomp(profile.dump()).program.size());

    profile["flags"] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"};
    EXPECT_EQ(compile_error(profile), "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
    profile["flags"] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    EXPECT_EQ(compile_error(profile), "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies "
                                      "to a filter with an SCMP_ACT_NOTIFY rule");
    profile["flags"] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
    EXPECT_EQ(compile_seccomp(profile.dump()).flags, unsigned(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
}

TEST(SeccompCompile, SyscallNames) {
    EXPECT_EQ(compile_error(allow_with({{{"action", "SCMP_ACT_ERRNO"}}})), "linux.seccomp.syscalls[0].names: is required");
    EXPECT_EQ(compile_error(allow_with({errno_rule({})})),
              "linux.seccomp.syscalls[0].names: must list at least one syscall");
    EXPECT_EQ(compile_error(allow_with({{{"names", {"mkdir", 3}}, {"action", "SCMP_ACT_ERRNO"}}})),
              "linux.seccomp.syscalls[0].names[1]: must be a string, not 3");
}

TEST(SeccompCompile, UnknownSyscallsAreSkippedWithAWarning) {
    testing::internal::CaptureStderr();
    CompiledSeccomp c =
        compile_seccomp(allow_with({errno_rule({"mkdir", "no_such_call"}), errno_rule({"frobnicate"})}).dump());
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(c.skipped_syscalls, (std::vector<std::string>{"no_such_call", "frobnicate"}));
    EXPECT_THAT(err, HasSubstr("warning: linux.seccomp: syscalls unknown to libseccomp, skipping their rules: "
                               "no_such_call, frobnicate"));
    // The known one in the same rule still applies.
    EXPECT_EQ(run_filtered(allow_with({errno_rule({"mkdir", "mkdirat", "no_such_call"})}),
                           [] { return errno_of(syscall(SYS_mkdir, "/nonexistent-dir/x", 0700)); }),
              EPERM);
}

TEST(SeccompCompile, NotifyNeedsAListener) {
    json profile = allow_with({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}});
    EXPECT_EQ(compile_error(profile), "linux.seccomp: SCMP_ACT_NOTIFY is used but listenerPath names no seccomp "
                                      "agent to send the listener fd to");
    json metadata_only = allow_with({errno_rule({"mkdir"})});
    metadata_only["listenerMetadata"] = "x";
    EXPECT_EQ(compile_error(metadata_only), "linux.seccomp.listenerMetadata: is only allowed with listenerPath");
    profile["listenerPath"] = "/run/agent.sock";
    json default_notify = {{"defaultAction", "SCMP_ACT_NOTIFY"}, {"listenerPath", "/run/agent.sock"}};
    EXPECT_EQ(compile_error(default_notify), "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    json notify_sendmsg = profile;
    notify_sendmsg["syscalls"][0]["names"] = {"mkdir", "sendmsg"};
    EXPECT_EQ(compile_error(notify_sendmsg), "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY on \"sendmsg\" would block "
                                             "droplet sending the listener fd to the seccomp agent");
    CompiledSeccomp c = compile_seccomp(profile.dump());
    EXPECT_TRUE(c.notify);
    EXPECT_EQ(c.listener_path, "/run/agent.sock");
    // A rule equal to the default action is dropped, so it does not make the filter notify.
    json plain = allow_with({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ALLOW"}}});
    EXPECT_FALSE(compile_seccomp(plain.dump()).notify);
}

TEST(SeccompFilter, ErrnoRuleDeniesOnlyItsSyscall) {
    json profile = allow_with({errno_rule({"mkdir", "mkdirat"}), errno_rule({"rmdir"}, json::array(), ENOSPC)});
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_mkdir, "/nonexistent-dir/x", 0700)); }), EPERM);
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_rmdir, "/nonexistent-dir")); }), ENOSPC);
    // Not in the profile: the kernel's own answer.
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_chdir, "/nonexistent-dir")); }), ENOENT);
}

TEST(SeccompFilter, KillActionsKillWithSigsys) {
    json kill = allow_with({{{"names", {"getppid"}}, {"action", "SCMP_ACT_KILL"}}});
    EXPECT_EQ(run_filtered(kill, [] { return static_cast<int>(syscall(SYS_getppid) > 0 ? 3 : 4); }), 1000 + SIGSYS);
    EXPECT_EQ(run_filtered(kill, [] { return 3; }), 3);
    json kill_process = allow_with({{{"names", {"getppid"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}});
    EXPECT_EQ(run_filtered(kill_process, [] { return static_cast<int>(syscall(SYS_getppid) > 0 ? 3 : 4); }),
              1000 + SIGSYS);
}

TEST(SeccompFilter, DefaultErrnoWithAnAllowList) {
    json profile = {{"defaultAction", "SCMP_ACT_ERRNO"},
                    {"defaultErrnoRet", ENOSYS},
                    {"syscalls", {{{"names", {"exit_group", "exit", "getpid"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
    EXPECT_EQ(run_filtered(profile,
                           [] {
                               bool pid_ok = syscall(SYS_getpid) > 0;
                               int denied = errno_of(syscall(SYS_getppid));
                               return pid_ok ? denied : 0;
                           }),
              ENOSYS);
}

TEST(SeccompFilter, ArgumentsOnOneIndexAreAlternativesAcrossIndexesAllMustMatch) {
    // umask(0022) or umask(0077) is denied; others pass.
    json same_index = allow_with({errno_rule({"umask"}, {arg(0, 0022, "SCMP_CMP_EQ"), arg(0, 0077, "SCMP_CMP_EQ")})});
    EXPECT_EQ(run_filtered(same_index, [] { return errno_of(syscall(SYS_umask, 0022)); }), EPERM);
    EXPECT_EQ(run_filtered(same_index, [] { return errno_of(syscall(SYS_umask, 0077)); }), EPERM);
    EXPECT_EQ(run_filtered(same_index, [] { return errno_of(syscall(SYS_umask, 0007)); }), 0);

    // getpriority(PRIO_PROCESS, 424242) is denied only when both arguments match.
    json both = allow_with(
        {errno_rule({"getpriority"}, {arg(0, PRIO_PROCESS, "SCMP_CMP_EQ"), arg(1, 424242, "SCMP_CMP_EQ")}, EXDEV)});
    EXPECT_EQ(run_filtered(both, [] { return errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 424242)); }), EXDEV);
    EXPECT_EQ(run_filtered(both, [] { return errno_of(syscall(SYS_getpriority, PRIO_PGRP, 424242)); }), ESRCH);
    EXPECT_EQ(run_filtered(both, [] { return errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 0)); }), 0);
}

TEST(SeccompFilter, MaskedEqualUsesValueAsTheMask) {
    // (mode & 0700) == 0700: umask(0777) and umask(0700) denied, umask(0077) passes.
    json profile = allow_with({errno_rule({"umask"}, {arg(0, 0700, "SCMP_CMP_MASKED_EQ", 0700)})});
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_umask, 0777)); }), EPERM);
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_umask, 0700)); }), EPERM);
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_umask, 0077)); }), 0);
    json greater = allow_with({errno_rule({"umask"}, {arg(0, 0100, "SCMP_CMP_GT")})});
    EXPECT_EQ(run_filtered(greater, [] { return errno_of(syscall(SYS_umask, 0101)); }), EPERM);
    EXPECT_EQ(run_filtered(greater, [] { return errno_of(syscall(SYS_umask, 0100)); }), 0);
}

TEST(SeccompFilter, LoadFailureNamesTheFilter) {
    // Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses the filter.
    SeccompSetup setup;
    setup.filter = compile_seccomp(allow_with({errno_rule({"mkdir"})}).dump());
    Process process; // no_new_privileges = false: loaded before the user switch
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        // As root, become nobody: the capabilities go with the uid change.
        if (getuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
            _exit(98);
        std::string message = "(loaded)";
        try {
            apply_seccomp_before_user_switch(&setup, process);
        } catch (const raind::Error& e) {
            message = e.what();
        }
        (void)!write(pipefd[1], message.data(), message.size());
        _exit(0);
    }
    close(pipefd[1]);
    char buf[256] = {};
    ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_GT(n, 0) << "child exit status " << status;
    EXPECT_EQ(std::string(buf), "linux.seccomp: load the filter: Permission denied");
}

class SeccompCache : public testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/droplet-seccomp-cache-XXXXXX";
        ASSERT_TRUE(mkdtemp(pattern));
        root_ = pattern;
        dir_ = seccomp_cache_dir(root_);
    }
    void TearDown() override { std::filesystem::remove_all(root_); }
    std::vector<std::filesystem::path> entries() const {
        std::vector<std::filesystem::path> found;
        if (std::filesystem::exists(dir_))
            for (const auto& e : std::filesystem::directory_iterator(dir_))
                found.push_back(e.path());
        return found;
    }
    std::string root_, dir_;
};

TEST_F(SeccompCache, TheSecondCompileReusesTheProgram) {
    json profile = allow_with({errno_rule({"mkdir", "mkdirat"})});
    profile["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    CompiledSeccomp first = compile_seccomp(profile.dump(), dir_);
    ASSERT_EQ(entries().size(), 1u);
    EXPECT_EQ(std::filesystem::status(dir_).permissions() & std::filesystem::perms::all, std::filesystem::perms::owner_all);

    // The entry is what the next compile loads: change its program and the change comes back.
    std::string path = entries()[0];
    std::string entry = read_text(path);
    entry[entry.size() - 1] ^= 1;
    write_text(path, entry);
    CompiledSeccomp second = compile_seccomp(profile.dump(), dir_);
    ASSERT_EQ(second.program.size(), first.program.size());
    EXPECT_NE(std::memcmp(second.program.data(), first.program.data(), first.program.size() * sizeof(sock_filter)), 0);
    EXPECT_EQ(std::memcmp(second.program.data(), first.program.data(), (first.program.size() - 1) * sizeof(sock_filter)),
              0);
}

TEST_F(SeccompCache, AFreshStateRootGetsItsCacheOnTheFirstCompile) {
    // The first container on a --root that does not exist yet: droplet compiles before the state
    // directory is made, and the next container must still find the program.
    std::filesystem::remove_all(root_);
    compile_seccomp(allow_with({errno_rule({"mkdir"})}).dump(), dir_);
    EXPECT_EQ(entries().size(), 1u);
}

TEST_F(SeccompCache, AnEntryForAnotherProfileIsNeverUsed) {
    json profile = allow_with({errno_rule({"mkdir"})});
    CompiledSeccomp fresh = compile_seccomp(profile.dump());
    compile_seccomp(profile.dump(), dir_);
    ASSERT_EQ(entries().size(), 1u);
    // Same file name (a hash collision), another profile's text and program inside.
    std::string path = entries()[0];
    std::string entry = read_text(path);
    size_t at = entry.find("mkdir");
    ASSERT_NE(at, std::string::npos);
    entry.replace(at, 5, "rmdir");
    write_text(path, entry);
    CompiledSeccomp again = compile_seccomp(profile.dump(), dir_);
    ASSERT_EQ(again.program.size(), fresh.program.size());
    EXPECT_EQ(std::memcmp(again.program.data(), fresh.program.data(), fresh.program.size() * sizeof(sock_filter)), 0);
}

TEST_F(SeccompCache, AHitStillChecksAndWarns) {
    json profile = allow_with({errno_rule({"mkdir", "no_such_call"})});
    compile_seccomp(profile.dump(), dir_);
    testing::internal::CaptureStderr();
    CompiledSeccomp hit = compile_seccomp(profile.dump(), dir_);
    EXPECT_THAT(testing::internal::GetCapturedStderr(), HasSubstr("skipping their rules: no_such_call"));
    EXPECT_EQ(hit.skipped_syscalls, std::vector<std::string>{"no_such_call"});
    EXPECT_EQ(run_filtered(profile, [] { return errno_of(syscall(SYS_mkdir, "/nonexistent-dir/x", 0700)); }), EPERM);
    // The cache directory can never be mistaken for a container.
    EXPECT_THROW(validate_id(std::filesystem::path(dir_).filename()), raind::Error);
}

TEST(SeccompFeatures, ListsWhatCompileAccepts) {
    json f = seccomp_features();
    EXPECT_TRUE(f["enabled"].get<bool>());
    for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_NOTIFY", "SCMP_ACT_LOG"})
        EXPECT_THAT(f["actions"].get<std::vector<std::string>>(), testing::Contains(action));
    EXPECT_THAT(f["operators"].get<std::vector<std::string>>(), testing::Contains("SCMP_CMP_MASKED_EQ"));
    EXPECT_THAT(f["supportedFlags"].get<std::vector<std::string>>(), testing::Contains("SECCOMP_FILTER_FLAG_LOG"));
}

} // namespace
} // namespace droplet
