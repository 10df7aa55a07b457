#include "container_seccomp.hpp"

#include <errno.h>
#include <sched.h>

#include <string>
#include <vector>

namespace condenser {

nlohmann::json default_seccomp_profile() {
    using nlohmann::json;
    // EPERM, as if the capability were missing: what these calls answer an unprivileged caller.
    const std::vector<std::string> denied = {
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "fanotify_init", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms",
        "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl",
        "lookup_dcookie", "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at",
        "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "process_vm_readv",
        "process_vm_writev", "quotactl", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday",
        "stime", "swapoff", "swapon", "syslog", "umount", "umount2", "unshare", "uselib", "userfaultfd",
        "ustat", "vm86", "vm86old", "_sysctl",
    };
    json syscalls = json::array();
    syscalls.push_back({{"names", denied}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EPERM}});
    // clone may make threads and processes, not namespaces; clone3 cannot be filtered by its
    // flags (they are in memory): ENOSYS sends libc back to clone.
    for (unsigned long flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                               CLONE_NEWCGROUP})
        syscalls.push_back({{"names", {"clone"}},
                            {"action", "SCMP_ACT_ERRNO"},
                            {"errnoRet", EPERM},
                            {"args", {{{"index", 0}, {"value", flag}, {"valueTwo", flag}, {"op", "SCMP_CMP_MASKED_EQ"}}}}});
    syscalls.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
    return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", syscalls}};
}

} // namespace condenser
