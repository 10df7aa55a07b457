#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "seccomp.hpp"

namespace droplet {

// What this droplet implements (runtime-spec features.md); only what works is listed. The mount
// options are the ones mount_options.cpp parses.
Command add_features(CLI::App& parent, const GlobalOptions&) {
    auto* app = parent.add_subcommand("features", "print the OCI features document");
    return {app, [] {
                nlohmann::json caps = nlohmann::json::array();
                for (const char* c :
                     {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                      "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
                      "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
                      "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
                      "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
                      "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
                      "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
                      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"})
                    caps.push_back(c);
                nlohmann::json doc = {
                    {"ociVersionMin", "1.0.0"},
                    {"ociVersionMax", "1.2.0"},
                    {"hooks",
                     {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
                    {"mountOptions",
                     {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion",
                      "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion",
                      "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow",
                      "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec",
                      "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime",
                      "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared",
                      "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent",
                      "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable"}},
                    {"linux",
                     {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
                      {"capabilities", caps},
                      {"cgroup", {{"v1", false}, {"v2", true}, {"systemd", true}, {"systemdUser", false}, {"rdma", false}}},
                      {"seccomp", seccomp_features()},
                      // Support is built in; whether this kernel has AppArmor is another matter.
                      {"apparmor", {{"enabled", true}}},
                      {"selinux", {{"enabled", false}}},
                      {"intelRdt", {{"enabled", false}}}}},
                    {"annotations", {{"org.opencontainers.runtime-spec.features.version", "1.2.0"}}},
                };
                std::puts(doc.dump(4).c_str());
                return 0;
            }};
}

} // namespace droplet
