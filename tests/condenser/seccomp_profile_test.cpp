// The seccomp profile config.json gets: Docker's default policy for the container's
// capabilities, compiled by droplet's real compiler and loaded in a forked child whose syscalls
// are compared with an unfiltered child's; custom profiles (OCI or Docker's format) from files
// or the seccomp_profile option, and the errors a bad one gives.
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

#include "container_options.hpp"
#include "container_spec.hpp"
#include "default_seccomp.hpp"
#include "seccomp.hpp"
#include "seccomp_profile.hpp"

namespace {

using nlohmann::json;
using Options = std::map<std::string, sdbus::Variant>;
using Strings = std::vector<std::string>;
using testing::HasSubstr;

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

json spec_for(const Options& options) {
    raind::images::ImageConfig image;
    image.cmd = {"/bin/sh"};
    condenser::ContainerRequest request{std::string(64, 'a'), {}, {}, "/nonexistent"};
    auto parsed = condenser::parse_container_options(options);
    auto spec = condenser::container_spec(condenser::apply_to_image(image, parsed), request);
    condenser::apply_to_spec(spec, parsed);
    return spec;
}

json seccomp_for(const Options& options) { return spec_for(options)["linux"]["seccomp"]; }

std::string error_of(const Options& options) {
    try {
        condenser::parse_container_options(options);
    } catch (const condenser::InvalidContainerArgument& e) {
        return e.what();
    }
    return "(accepted)";
}

Options security_opt(const Strings& values) { return {{"security_opt", sdbus::Variant(values)}}; }

// errno of a failed raw syscall, 0 on success.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

// Each probe makes one syscall with arguments the kernel rejects harmlessly (or a no-op), so
// an unfiltered run shows the kernel's own answer and a filtered one the filter's.
struct Probe {
    const char* name;
    int (*call)();
};

const Probe probes[] = {
    {"read", [] { return errno_of(syscall(SYS_read, -1, nullptr, 0)); }},
    {"write", [] { return errno_of(syscall(SYS_write, -1, nullptr, 0)); }},
    {"execve", [] { return errno_of(syscall(SYS_execve, "/nonexistent/x", nullptr, nullptr)); }},
    {"fork",
     [] {
         pid_t pid = fork();
         if (pid == 0)
             _exit(0);
         if (pid < 0)
             return errno;
         waitpid(pid, nullptr, 0);
         return 0;
     }},
    {"socket_unix",
     [] {
         int fd = socket(AF_UNIX, SOCK_STREAM, 0);
         return fd < 0 ? errno : (close(fd), 0);
     }},
    {"personality_query", [] { return errno_of(syscall(SYS_personality, 0xffffffffUL)); }},
    {"chroot", [] { return errno_of(syscall(SYS_chroot, "/nonexistent/x")); }},
    // CLONE_FS with CLONE_NEWNS is invalid: EINVAL before any privilege check.
    {"clone_newns", [] { return errno_of(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS, nullptr, nullptr, nullptr, nullptr)); }},
    {"clone3", [] { return errno_of(syscall(SYS_clone3, nullptr, 0)); }},
    {"mount", [] { return errno_of(syscall(SYS_mount, nullptr, nullptr, nullptr, 0, nullptr)); }},
    {"umount2", [] { return errno_of(syscall(SYS_umount2, "/", 0xffffffff)); }},
    {"unshare", [] { return errno_of(syscall(SYS_unshare, 0)); }},
    {"setns", [] { return errno_of(syscall(SYS_setns, -1, 0)); }},
    {"reboot", [] { return errno_of(syscall(SYS_reboot, 0, 0, 0, nullptr)); }},
    {"kexec_load", [] { return errno_of(syscall(SYS_kexec_load, 0, 0, nullptr, 0xffffffffUL)); }},
    {"init_module", [] { return errno_of(syscall(SYS_init_module, nullptr, 0, "")); }},
    {"ptrace", [] { return errno_of(syscall(SYS_ptrace, 0xdead, 0, nullptr, nullptr)); }},
    {"keyctl", [] { return errno_of(syscall(SYS_keyctl, 0xdead, 0, 0, 0, 0)); }},
    {"clock_settime", [] { return errno_of(syscall(SYS_clock_settime, 0xdead, nullptr)); }},
    {"personality_odd", [] { return errno_of(syscall(SYS_personality, ADDR_NO_RANDOMIZE)); }},
    {"socket_vsock",
     [] {
         int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
         return fd < 0 ? errno : (close(fd), 0);
     }},
};

// The probes' errnos in a forked child, under `profile` (null: no filter).
std::map<std::string, int> probe_errnos(const json* profile) {
    droplet::CompiledSeccomp filter;
    if (profile)
        filter = droplet::compile_seccomp(profile->dump());
    int fds[2];
    if (pipe(fds) < 0)
        throw std::runtime_error("pipe");
    constexpr size_t count = std::size(probes);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (profile) {
            sock_fprog prog{static_cast<unsigned short>(filter.program.size()), filter.program.data()};
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                _exit(99);
        }
        int results[count];
        for (size_t i = 0; i < count; ++i)
            results[i] = probes[i].call();
        _exit(write(fds[1], results, sizeof results) == sizeof results ? 0 : 98);
    }
    close(fds[1]);
    int results[count];
    ssize_t n = read(fds[0], results, sizeof results);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != sizeof results || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("probe child failed, status " + std::to_string(status));
    std::map<std::string, int> by_name;
    for (size_t i = 0; i < count; ++i)
        by_name[probes[i].name] = results[i];
    return by_name;
}

const std::map<std::string, int>& unfiltered() {
    static const auto results = probe_errnos(nullptr);
    return results;
}

// Denied by the filter: EPERM where the kernel itself would have answered otherwise. (Without
// root the kernel already says EPERM to a few of them; then only the filtered answer is checked.)
void expect_denied(const std::map<std::string, int>& filtered, const Strings& names) {
    for (const auto& name : names) {
        EXPECT_EQ(filtered.at(name), EPERM) << name << " should be denied";
        if (geteuid() == 0) {
            EXPECT_NE(unfiltered().at(name), EPERM) << name << ": the probe cannot tell the filter from the kernel";
        }
    }
}

void expect_allowed(const std::map<std::string, int>& filtered, const Strings& names) {
    for (const auto& name : names)
        EXPECT_EQ(filtered.at(name), unfiltered().at(name)) << name << " should reach the kernel";
}

bool names_syscall(const json& profile, const std::string& name) {
    for (const auto& rule : profile["syscalls"])
        if (rule["action"] == "SCMP_ACT_ALLOW" && !rule.contains("args"))
            for (const auto& n : rule["names"])
                if (n == name)
                    return true;
    return false;
}

TEST(DefaultSeccomp, DeniesWhatReachesTheHostAndRunsOrdinaryPrograms) {
    json profile = seccomp_for({});
    EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
    EXPECT_EQ(profile["defaultErrnoRet"], EPERM);
    auto filtered = probe_errnos(&profile);
    expect_denied(filtered, {"mount", "umount2", "unshare", "setns", "reboot", "kexec_load", "init_module",
                             "keyctl", "clone_newns", "clock_settime", "personality_odd", "socket_vsock"});
    expect_allowed(filtered, {"read", "write", "execve", "fork", "socket_unix", "personality_query", "chroot", "ptrace"});
    EXPECT_EQ(filtered.at("fork"), 0);
    // glibc falls back to clone on ENOSYS, which the filter can check; EPERM would fail it.
    EXPECT_EQ(filtered.at("clone3"), ENOSYS);
}

TEST(DefaultSeccomp, CapabilitiesOpenTheirGroupsOnly) {
    auto admin = seccomp_for({{"cap_add", sdbus::Variant(Strings{"SYS_ADMIN"})}});
    auto filtered = probe_errnos(&admin);
    expect_allowed(filtered, {"mount", "umount2", "unshare", "setns", "clone_newns", "clone3"});
    expect_denied(filtered, {"reboot", "kexec_load", "init_module"});

    auto more = seccomp_for({{"cap_add", sdbus::Variant(Strings{"SYS_PTRACE", "SYS_BOOT", "SYS_MODULE", "SYS_TIME"})}});
    filtered = probe_errnos(&more);
    expect_allowed(filtered, {"reboot", "init_module", "clock_settime"});
    expect_denied(filtered, {"mount", "unshare", "kexec_load", "keyctl"});
    EXPECT_EQ(filtered.at("clone3"), ENOSYS);

    // Dropping CAP_SYS_CHROOT (in Docker's default set) closes chroot.
    auto no_chroot = seccomp_for({{"cap_drop", sdbus::Variant(Strings{"SYS_CHROOT"})}});
    EXPECT_TRUE(names_syscall(seccomp_for({}), "chroot"));
    EXPECT_FALSE(names_syscall(no_chroot, "chroot"));

    // Even every capability never opens kexec or the keyrings.
    auto all = seccomp_for({{"cap_add", sdbus::Variant(Strings{"ALL"})}});
    for (const char* name : {"mount", "bpf", "perf_event_open", "open_by_handle_at", "iopl", "acct", "syslog"})
        EXPECT_TRUE(names_syscall(all, name)) << name;
    for (const char* name :
         {"kexec_load", "kexec_file_load", "keyctl", "add_key", "userfaultfd", "pivot_root", "io_uring_setup"})
        EXPECT_FALSE(names_syscall(all, name)) << name;
}

TEST(DefaultSeccomp, CoversThisBuildsArchitectureAndItsCompatModes) {
    json profile = condenser::default_seccomp_profile({});
    const auto& arch = condenser::build_architecture();
    if (arch.native.empty())
        GTEST_SKIP() << "no architecture list on this build: libseccomp uses the native one";
    ASSERT_TRUE(profile.contains("architectures"));
    EXPECT_EQ(profile["architectures"][0], arch.native);
    EXPECT_EQ(profile["architectures"].size(), 1 + arch.compat.size());
#if defined(__x86_64__)
    EXPECT_EQ(profile["architectures"], json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    EXPECT_TRUE(names_syscall(profile, "arch_prctl"));
#endif
    // Every name is one this host's libseccomp knows: none is skipped with a warning.
    EXPECT_THAT(droplet::compile_seccomp(profile.dump()).skipped_syscalls, testing::IsEmpty());
}

class SeccompFiles : public testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/seccomp-profile-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text) {
        std::string path = dir_ + "/" + name;
        std::ofstream(path) << text;
        return path;
    }
    std::string dir_;
};

// A profile in Docker's format: archMap, name/names, comments and includes/excludes.
json docker_profile() {
    const std::string go_arch = condenser::build_architecture().go_name;
    return {
        {"defaultAction", "SCMP_ACT_ERRNO"},
        {"defaultErrnoRet", 1},
        {"archMap",
         {{{"architecture", "SCMP_ARCH_X86_64"}, {"subArchitectures", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}}},
          {{"architecture", "SCMP_ARCH_AARCH64"}, {"subArchitectures", {"SCMP_ARCH_ARM"}}},
          {{"architecture", "SCMP_ARCH_RISCV64"}, {"subArchitectures", nullptr}}}},
        {"syscalls",
         {
             {{"names", {"read", "write", "exit_group", "getpid"}}, {"action", "SCMP_ACT_ALLOW"}},
             {{"name", "mkdir"}, {"action", "SCMP_ACT_ALLOW"}, {"comment", "single-name form"}},
             {{"names", {"mount"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"caps", {"CAP_SYS_ADMIN"}}}}},
             {{"names", {"unshare"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38},
              {"excludes", {{"caps", {"CAP_SYS_ADMIN"}}}}},
             {{"names", {"getcwd"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"arches", {go_arch}}}}},
             {{"names", {"getppid"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"arches", {"mips64"}}}}},
             {{"names", {"gettid"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"minKernel", "3.0"}}}},
             {{"names", {"getuid"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"minKernel", "999.0"}}}},
             {{"names", {"getgid"}}, {"action", "SCMP_ACT_ALLOW"}, {"excludes", {{"minKernel", "3.0"}}}},
             {{"names", {"socket"}}, {"action", "SCMP_ACT_ALLOW"},
              {"args", {{{"index", 0}, {"value", 40}, {"op", "SCMP_CMP_NE"}}}}},
         }},
    };
}

Strings rule_names(const json& profile) {
    Strings names;
    for (const auto& rule : profile["syscalls"])
        for (const auto& name : rule["names"])
            names.push_back(name);
    return names;
}

TEST_F(SeccompFiles, DockerFormatIsEvaluatedForTheContainer) {
    std::string path = write("docker.json", docker_profile().dump());
    json plain = seccomp_for(security_opt({"seccomp=" + path}));
    json admin = seccomp_for({{"security_opt", sdbus::Variant(Strings{"seccomp=" + path})},
                              {"cap_add", sdbus::Variant(Strings{"CAP_SYS_ADMIN"})}});
    using testing::Contains;
    using testing::Not;
    EXPECT_THAT(rule_names(plain), Contains("mkdir"));
    EXPECT_THAT(rule_names(plain), Not(Contains("mount")));
    EXPECT_THAT(rule_names(admin), Contains("mount"));
    EXPECT_THAT(rule_names(plain), Contains("unshare"));
    EXPECT_THAT(rule_names(admin), Not(Contains("unshare")));
    if (!condenser::build_architecture().go_name.empty()) {
        EXPECT_THAT(rule_names(plain), Contains("getcwd"));
    }
    EXPECT_THAT(rule_names(plain), Not(Contains("getppid")));
    EXPECT_THAT(rule_names(plain), Contains("gettid"));
    EXPECT_THAT(rule_names(plain), Not(Contains("getuid")));
    EXPECT_THAT(rule_names(plain), Not(Contains("getgid")));
    // Only OCI fields remain, so droplet (and runc, crun) take it as it is.
    for (const auto& rule : plain["syscalls"]) {
        EXPECT_FALSE(rule.contains("includes") || rule.contains("excludes") || rule.contains("comment") ||
                     rule.contains("name"))
            << rule.dump();
    }
    EXPECT_FALSE(plain.contains("archMap"));
#if defined(__x86_64__)
    EXPECT_EQ(plain["architectures"], json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
#endif
    // And the converted profile does what it says once loaded.
    auto filtered = probe_errnos(&plain);
    EXPECT_EQ(filtered.at("unshare"), ENOSYS);
    EXPECT_EQ(filtered.at("mount"), EPERM);
    EXPECT_EQ(filtered.at("read"), EBADF);
}

TEST_F(SeccompFiles, OciProfilePassesThroughAndUnconfinedHasNone) {
    json oci = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"architectures", {"SCMP_ARCH_X86_64"}},
        {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
        {"syscalls",
         {{{"names", {"mkdir", "mkdirat"}},
           {"action", "SCMP_ACT_ERRNO"},
           {"errnoRet", 13},
           {"args", {{{"index", 1}, {"value", 0700}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}}}}}},
    };
    std::string path = write("oci.json", oci.dump());
    EXPECT_EQ(seccomp_for(security_opt({"seccomp=" + path})), oci);
    // What the raind CLI sends: the file's content.
    EXPECT_EQ(seccomp_for({{"seccomp_profile", sdbus::Variant(oci.dump())}}), oci);
    // Docker's API puts the profile itself in the option.
    EXPECT_EQ(seccomp_for(security_opt({"seccomp=" + oci.dump()})), oci);

    json unconfined = spec_for(security_opt({"seccomp=unconfined", "no-new-privileges"}));
    EXPECT_FALSE(unconfined["linux"].contains("seccomp"));
    EXPECT_TRUE(unconfined["process"]["noNewPrivileges"].get<bool>());
    EXPECT_TRUE(spec_for({})["linux"].contains("seccomp"));
}

TEST_F(SeccompFiles, BadProfilesAreRefusedNamingFileAndField) {
    std::string missing = dir_ + "/missing.json";
    EXPECT_THAT(error_of(security_opt({"seccomp=" + missing})),
                testing::AllOf(HasSubstr(missing), HasSubstr("No such file or directory")));
    std::string broken = write("broken.json", "{\"defaultAction\": ");
    EXPECT_THAT(error_of(security_opt({"seccomp=" + broken})),
                testing::AllOf(HasSubstr(broken), HasSubstr("not valid JSON")));
    std::string action = write("action.json", R"({"defaultAction":"SCMP_ACT_ERRNO",
        "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_FOO"}]})");
    EXPECT_THAT(error_of(security_opt({"seccomp=" + action})),
                testing::AllOf(HasSubstr(action), HasSubstr("syscalls[1].action"), HasSubstr("SCMP_ACT_FOO")));
    std::string typo = write("typo.json", R"({"defaultAction":"SCMP_ACT_ERRNO","sycalls":[]})");
    EXPECT_THAT(error_of(security_opt({"seccomp=" + typo})), HasSubstr("unknown field \"sycalls\""));
    std::string no_default = write("nodefault.json", R"({"syscalls":[]})");
    EXPECT_THAT(error_of(security_opt({"seccomp=" + no_default})), HasSubstr("defaultAction: is required"));
    std::string condition = write("cond.json", R"({"defaultAction":"SCMP_ACT_ERRNO",
        "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]})");
    EXPECT_THAT(error_of(security_opt({"seccomp=" + condition})),
                testing::AllOf(HasSubstr("syscalls[0].includes.minKernel"), HasSubstr("\"new\"")));
    std::string args = write("args.json", R"({"defaultAction":"SCMP_ACT_ERRNO",
        "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]})");
    EXPECT_THAT(error_of(security_opt({"seccomp=" + args})), HasSubstr("syscalls[0].args[0].index"));

    EXPECT_THAT(error_of(security_opt({"seccomp=" + dir_})), HasSubstr("is not a regular file"));
    EXPECT_THAT(error_of(security_opt({"seccomp=profile.json"})), HasSubstr("not an absolute path"));
    EXPECT_THAT(error_of(security_opt({"seccomp=unconfined", "seccomp=" + action})), HasSubstr("chosen twice"));
    EXPECT_THAT(error_of({{"seccomp_profile", sdbus::Variant(std::string("[]"))}}),
                testing::AllOf(HasSubstr("option seccomp_profile"), HasSubstr("must be an object")));
    EXPECT_THAT(error_of({{"seccomp_profile", sdbus::Variant(true)}}), HasSubstr("\"seccomp_profile\" must be of D-Bus type s"));
    EXPECT_THAT(error_of(security_opt({"apparmor=unconfined"})), HasSubstr("not supported yet"));
}

} // namespace
