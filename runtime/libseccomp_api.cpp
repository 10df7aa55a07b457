#include "libseccomp_api.hpp"

#include "dynamic_library.hpp"

namespace droplet {
namespace {

LibSeccomp open_libseccomp() {
    DynamicLibrary so("libseccomp.so.2", "linux.seccomp");
    LibSeccomp lib{};
    so.bind("seccomp_init", lib.init);
    so.bind("seccomp_release", lib.release);
    so.bind("seccomp_attr_set", lib.attr_set);
    so.bind("seccomp_arch_resolve_name", lib.arch_resolve_name);
    so.bind("seccomp_arch_add", lib.arch_add);
    so.bind("seccomp_syscall_resolve_name", lib.syscall_resolve_name);
    so.bind("seccomp_rule_add_array", lib.rule_add_array);
    so.bind("seccomp_export_bpf", lib.export_bpf);
    so.bind("seccomp_version", lib.version);
    return lib;
}

} // namespace

const LibSeccomp& libseccomp() {
    static const LibSeccomp lib = open_libseccomp();
    return lib;
}

} // namespace droplet
