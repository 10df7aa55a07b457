// libseccomp, opened the first time a spec has linux.seccomp. Linking it would map its syscall
// tables into every droplet start, which bench/runtime-start holds to crun's peak RSS.
#pragma once

#include <seccomp.h>

namespace droplet {

struct LibSeccomp {
    decltype(&::seccomp_init) init;
    decltype(&::seccomp_release) release;
    decltype(&::seccomp_attr_set) attr_set;
    decltype(&::seccomp_arch_resolve_name) arch_resolve_name;
    decltype(&::seccomp_arch_add) arch_add;
    decltype(&::seccomp_syscall_resolve_name) syscall_resolve_name;
    decltype(&::seccomp_rule_add_array) rule_add_array;
    decltype(&::seccomp_export_bpf) export_bpf;
    decltype(&::seccomp_version) version;
};

// Throws "linux.seccomp: cannot load libseccomp.so.2: <why>".
const LibSeccomp& libseccomp();

} // namespace droplet
