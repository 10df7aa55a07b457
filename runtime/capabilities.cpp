#include "capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <utility>

#include "error.hpp"
#include "log.hpp"

namespace droplet {
namespace {

constexpr std::array<const char*, 41> cap_names = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",          "CAP_FSETID",
    "CAP_KILL",            "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",      "CAP_NET_RAW",         "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",       "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",        "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",           "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",       "CAP_SYSLOG",
    "CAP_WAKE_ALARM",      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

int cap_number(const std::string& name) {
    for (size_t i = 0; i < cap_names.size(); ++i)
        if (name == cap_names[i])
            return static_cast<int>(i);
    return -1;
}

int last_cap() {
    static int last = [] {
        FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "re");
        int n = static_cast<int>(cap_names.size()) - 1;
        if (f) {
            if (std::fscanf(f, "%d", &n) != 1)
                n = static_cast<int>(cap_names.size()) - 1;
            std::fclose(f);
        }
        return n;
    }();
    return last;
}

uint64_t mask_of(const std::vector<std::string>& names) {
    uint64_t mask = 0;
    for (const std::string& n : names) {
        int c = cap_number(n);
        // A capability newer than this kernel cannot be granted; leaving it out is what runc does.
        if (c >= 0 && c <= last_cap())
            mask |= uint64_t{1} << c;
    }
    return mask;
}

void warn_unknown(const std::vector<std::string>& names, const char* set) {
    for (const std::string& n : names)
        if (cap_number(n) < 0)
            raind::log::warning(std::string("process.capabilities.") + set + ": unknown capability \"" + n +
                                "\", ignoring");
}

// What droplet itself holds: a process can keep no capability outside its own bounding set,
// nor gain one outside its own permitted set.
uint64_t held_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) < 0)
        raind::throw_errno("read droplet's own capabilities (capget)");
    uint64_t permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
    uint64_t bounding = 0;
    for (int c = 0; c <= last_cap(); ++c)
        if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            bounding |= uint64_t{1} << c;
    return permitted & bounding;
}

void check_held(const std::vector<std::string>& names, const char* set, uint64_t held) {
    for (const std::string& n : names) {
        int c = cap_number(n);
        if (c >= 0 && c <= last_cap() && !(held & (uint64_t{1} << c)))
            throw raind::Error(std::string("process.capabilities.") + set + ": " + n +
                               " cannot be granted: droplet itself does not have it (the caller lacks it)");
    }
}

} // namespace

void check_capabilities(const Capabilities& caps, bool new_user_namespace) {
    for (auto [names, set] : {std::pair{&caps.bounding, "bounding"}, {&caps.effective, "effective"},
                              {&caps.permitted, "permitted"}, {&caps.inheritable, "inheritable"},
                              {&caps.ambient, "ambient"}})
        warn_unknown(*names, set);
    // In a user namespace of its own the container's root holds every capability there.
    if (new_user_namespace)
        return;
    uint64_t held = held_capabilities();
    for (auto [names, set] : {std::pair{&caps.bounding, "bounding"}, {&caps.effective, "effective"},
                              {&caps.permitted, "permitted"}, {&caps.ambient, "ambient"}})
        check_held(*names, set, held);
}

void apply_bounding_set(const Capabilities& caps) {
    uint64_t keep = mask_of(caps.bounding);
    for (int c = 0; c <= last_cap(); ++c) {
        if (keep & (uint64_t{1} << c))
            continue;
        if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            raind::throw_errno(std::string("process.capabilities.bounding: drop ") +
                               (static_cast<size_t>(c) < cap_names.size() ? cap_names[static_cast<size_t>(c)] : "?"));
    }
}

void apply_capability_sets(const Capabilities& caps) {
    uint64_t eff = mask_of(caps.effective), perm = mask_of(caps.permitted), inh = mask_of(caps.inheritable);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    data[0].effective = static_cast<uint32_t>(eff);
    data[1].effective = static_cast<uint32_t>(eff >> 32);
    data[0].permitted = static_cast<uint32_t>(perm);
    data[1].permitted = static_cast<uint32_t>(perm >> 32);
    data[0].inheritable = static_cast<uint32_t>(inh);
    data[1].inheritable = static_cast<uint32_t>(inh >> 32);
    if (::syscall(SYS_capset, &header, data) < 0)
        raind::throw_errno("process.capabilities: capset");
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        raind::throw_errno("process.capabilities.ambient: clear");
    // The kernel only raises an ambient capability that is also permitted and inheritable;
    // configs (runc's default among them) list ambient ones without inheritable, and runc
    // skips those, so do we.
    uint64_t amb = mask_of(caps.ambient) & perm & inh;
    for (int c = 0; c <= last_cap(); ++c)
        if ((amb & (uint64_t{1} << c)) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            raind::throw_errno(std::string("process.capabilities.ambient: raise ") + cap_names[static_cast<size_t>(c)]);
}

} // namespace droplet
