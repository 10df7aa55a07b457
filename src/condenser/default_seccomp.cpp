#include "default_seccomp.hpp"

#include <errno.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <string_view>

namespace condenser {
namespace {

using nlohmann::json;

// Allowed to every container. What is missing on purpose (and so denied with EPERM):
// kexec_load/kexec_file_load (replace the host's kernel), add_key/keyctl/request_key (the
// keyrings are not namespaced), userfaultfd (widens kernel race windows for exploits),
// io_uring_* (a second syscall interface that bypasses this filter and has been a steady
// source of kernel exploits; Docker 25 and containerd block it too), swapon/swapoff,
// pivot_root (only the runtime needs it), vm86, uselib, ustat, sysfs, _sysctl, nfsservctl and
// the long-gone module calls. Names libseccomp 2.5.4 (Debian 12) does not know
// are left out: droplet would only skip them with a warning on every start.
constexpr std::string_view ordinary_syscalls[] = {
    // files and directories
    "access faccessat faccessat2 chdir fchdir getcwd chmod fchmod fchmodat fchmodat2 chown fchown fchownat "
    "lchown chown32 fchown32 lchown32 creat open openat openat2 close close_range dup dup2 dup3 fcntl fcntl64 "
    "flock fsync fdatasync sync syncfs sync_file_range fallocate ftruncate ftruncate64 truncate truncate64 "
    "link linkat symlink symlinkat unlink unlinkat rename renameat renameat2 mkdir mkdirat rmdir mknod "
    "mknodat readlink readlinkat stat stat64 lstat lstat64 fstat fstat64 fstatat64 newfstatat statx statfs "
    "statfs64 fstatfs fstatfs64 getdents getdents64 umask utime utimes utimensat utimensat_time64 futimesat "
    "getxattr lgetxattr fgetxattr setxattr lsetxattr fsetxattr listxattr llistxattr flistxattr removexattr "
    "lremovexattr fremovexattr name_to_handle_at inotify_init inotify_init1 inotify_add_watch "
    "inotify_rm_watch fanotify_mark copy_file_range sendfile sendfile64 splice tee vmsplice readahead "
    "fadvise64 fadvise64_64 lseek _llseek cachestat",
    // reading, writing, waiting for fds, asynchronous I/O
    "read write readv writev pread64 pwrite64 preadv pwritev preadv2 pwritev2 ioctl select _newselect "
    "pselect6 pselect6_time64 poll ppoll ppoll_time64 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
    "epoll_wait epoll_wait_old epoll_pwait epoll_pwait2 eventfd eventfd2 pipe pipe2 io_setup io_destroy "
    "io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set",
    // memory
    "brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall munlock munlockall "
    "membarrier memfd_create memfd_secret remap_file_pages pkey_alloc pkey_free pkey_mprotect "
    "map_shadow_stack process_mrelease",
    // processes, credentials, limits, scheduling (fork and vfork cannot make namespaces)
    "execve execveat exit exit_group fork vfork wait4 waitid waitpid getpid getppid gettid getpgid setpgid "
    "getpgrp getsid setsid getpriority setpriority prctl capget capset getrlimit setrlimit ugetrlimit "
    "prlimit64 getrusage times uname sysinfo set_tid_address set_robust_list get_robust_list rseq "
    "restart_syscall getcpu getrandom seccomp pidfd_open pidfd_send_signal landlock_add_rule "
    "landlock_create_ruleset landlock_restrict_self get_thread_area set_thread_area "
    "sched_yield sched_getaffinity sched_setaffinity sched_getattr sched_setattr sched_getparam "
    "sched_setparam sched_getscheduler sched_setscheduler sched_get_priority_max sched_get_priority_min "
    "sched_rr_get_interval sched_rr_get_interval_time64 "
    "getuid geteuid getgid getegid getresuid getresgid getgroups getuid32 geteuid32 getgid32 getegid32 "
    "getresuid32 getresgid32 getgroups32 setuid setgid setreuid setregid setresuid setresgid setfsuid "
    "setfsgid setgroups setuid32 setgid32 setreuid32 setregid32 setresuid32 setresgid32 setfsuid32 "
    "setfsgid32 setgroups32",
    // signals
    "kill tkill tgkill rt_sigaction rt_sigprocmask rt_sigpending rt_sigsuspend rt_sigtimedwait "
    "rt_sigtimedwait_time64 rt_sigqueueinfo rt_tgsigqueueinfo rt_sigreturn sigreturn sigaltstack signalfd "
    "signalfd4 sigprocmask pause alarm",
    // time (adjtimex and clock_adjtime only read without CAP_SYS_TIME: the kernel checks)
    "clock_gettime clock_gettime64 clock_getres clock_getres_time64 clock_nanosleep clock_nanosleep_time64 "
    "nanosleep gettimeofday time getitimer setitimer timer_create timer_delete timer_gettime "
    "timer_gettime64 timer_settime timer_settime64 timer_getoverrun timerfd_create timerfd_gettime "
    "timerfd_gettime64 timerfd_settime timerfd_settime64 adjtimex clock_adjtime clock_adjtime64",
    "futex futex_time64 futex_waitv futex_wait futex_wake futex_requeue",
    // Debuggers and strace work as with Docker since 19.03: the kernel (>= 4.8) runs the filter
    // again after a tracer changed a syscall, and only reaches processes of the same container.
    "ptrace process_vm_readv process_vm_writev",
    // sockets (socket itself is filtered below) and System V / POSIX IPC, all namespaced
    "socketpair bind connect listen accept accept4 getsockname getpeername getsockopt setsockopt send "
    "sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg recvmmsg_time64 shutdown socketcall",
    "ipc msgget msgsnd msgrcv msgctl semget semop semtimedop semtimedop_time64 semctl shmget shmat shmdt "
    "shmctl mq_open mq_unlink mq_timedsend mq_timedsend_time64 mq_timedreceive mq_timedreceive_time64 "
    "mq_notify mq_getsetattr",
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl modify_ldt",
#elif defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
#elif defined(__powerpc64__)
    "sync_file_range2 swapcontext",
#elif defined(__s390__)
    "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr",
#elif defined(__riscv)
    "riscv_flush_icache",
#endif
};

struct CapabilityGate {
    const char* capability;
    std::string_view syscalls;
};

// Opened only to a container holding the capability that guards them: without it the kernel
// refuses most of these anyway, and the filter keeps that refusal even where the kernel's
// check has a hole (a user namespace grants CAP_SYS_ADMIN over itself, for example).
constexpr CapabilityGate capability_gates[] = {
    // Mounting, namespaces, host names, quotas, BPF and perf events: the isolation itself.
    {"CAP_SYS_ADMIN",
     "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr "
     "move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog "
     "umount umount2 unshare"},
    {"CAP_SYS_BOOT", "reboot"},
    {"CAP_SYS_CHROOT", "chroot"},
    {"CAP_SYS_MODULE", "init_module finit_module delete_module"},
    {"CAP_SYS_PACCT", "acct"},
    // Comparing and taking other processes' fds, advising on their memory.
    {"CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise"},
    {"CAP_SYS_RAWIO", "iopl ioperm"},
    {"CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"},
    {"CAP_SYS_TTY_CONFIG", "vhangup"},
    // NUMA policies reach memory placement across the host.
    {"CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"},
    {"CAP_SYSLOG", "syslog"},
    {"CAP_BPF", "bpf"},
    {"CAP_PERFMON", "perf_event_open"},
    // File handles open any inode of a file system, outside the container's root (shocker).
    {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
};

// Namespace flags a clone without CAP_SYS_ADMIN must not carry. CLONE_NEWTIME shares its bit
// with the exit signal in clone(2), so only unshare and clone3 can ask for it.
constexpr uint64_t clone_namespace_flags =
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
// s390's clone takes the stack first and the flags second.
#if defined(__s390__)
constexpr unsigned clone_flags_index = 1;
#else
constexpr unsigned clone_flags_index = 0;
#endif

// personality(2) values programs use: Linux, 32-bit Linux, uname reporting 2.6.x, both, and
// the 0xffffffff query. The others change address-space layout or emulate other systems.
constexpr uint64_t allowed_personalities[] = {PER_LINUX, PER_LINUX32, UNAME26, uint64_t{UNAME26} | PER_LINUX32,
                                              0xffffffff};

void add_names(std::set<std::string>& into, std::string_view list) {
    for (size_t start = 0; start < list.size();) {
        size_t space = std::min(list.find(' ', start), list.size());
        if (space > start)
            into.emplace(list.substr(start, space - start));
        start = space + 1;
    }
}

// One rule with one argument condition. (Built as explicit arrays: a one-element braced list
// would become its element.)
json allow_if(const std::string& name, const json& condition) {
    return {{"names", json::array({name})}, {"action", "SCMP_ACT_ALLOW"}, {"args", json::array({condition})}};
}

json arg(unsigned index, uint64_t value, const char* op) { return {{"index", index}, {"value", value}, {"op", op}}; }

} // namespace

const SeccompArchitecture& build_architecture() {
    static const SeccompArchitecture arch =
#if defined(__x86_64__)
        {"amd64", "SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}};
#elif defined(__aarch64__)
        {"arm64", "SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}};
#elif defined(__i386__)
        {"386", "SCMP_ARCH_X86", {}};
#elif defined(__arm__)
        {"arm", "SCMP_ARCH_ARM", {}};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        {"ppc64le", "SCMP_ARCH_PPC64LE", {}};
#elif defined(__s390x__)
        {"s390x", "SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}};
#elif defined(__riscv) && __riscv_xlen == 64
        {"riscv64", "SCMP_ARCH_RISCV64", {}};
#else
        {"", "", {}};
#endif
    return arch;
}

json default_seccomp_profile(const std::vector<std::string>& capabilities) {
    auto has = [&](const char* cap) {
        return std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end();
    };
    std::set<std::string> allowed;
    for (auto list : ordinary_syscalls)
        add_names(allowed, list);
    for (const auto& gate : capability_gates)
        if (has(gate.capability))
            add_names(allowed, gate.syscalls);

    json syscalls = json::array();
    syscalls.push_back({{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}});
    // AF_VSOCK reaches the hypervisor's host, which no network namespace separates.
    syscalls.push_back(allow_if("socket", arg(0, AF_VSOCK, "SCMP_CMP_NE")));
    for (uint64_t persona : allowed_personalities)
        syscalls.push_back(allow_if("personality", arg(0, persona, "SCMP_CMP_EQ")));
    if (!has("CAP_SYS_ADMIN")) {
        // Threads and fork-like clones, but no new namespaces.
        syscalls.push_back(allow_if("clone", arg(clone_flags_index, clone_namespace_flags, "SCMP_CMP_MASKED_EQ")));
        // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back
        // to clone, which the rule above checks.
        syscalls.push_back({{"names", json::array({"clone3"})}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
    }

    json profile = {{"defaultAction", "SCMP_ACT_ERRNO"}, {"defaultErrnoRet", EPERM}, {"syscalls", syscalls}};
    const auto& arch = build_architecture();
    if (!arch.native.empty()) {
        json architectures = json::array({arch.native});
        for (const auto& compat : arch.compat)
            architectures.push_back(compat);
        profile["architectures"] = architectures;
    }
    return profile;
}

} // namespace condenser
