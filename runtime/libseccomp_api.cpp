#include "libseccomp_api.hpp"

#include <dlfcn.h>

#include <string>

#include "error.hpp"

namespace droplet {
namespace {

template <typename F>
void bind(void* handle, const char* name, F& slot) {
    slot = reinterpret_cast<F>(::dlsym(handle, name));
    if (!slot)
        throw raind::Error(std::string("linux.seccomp: libseccomp.so.2 lacks ") + name);
}

LibSeccomp open_libseccomp() {
    // Never closed: the functions stay in use until droplet exits.
    void* handle = ::dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        throw raind::Error(std::string("linux.seccomp: cannot load libseccomp.so.2: ") + ::dlerror());
    LibSeccomp lib{};
    bind(handle, "seccomp_init", lib.init);
    bind(handle, "seccomp_release", lib.release);
    bind(handle, "seccomp_attr_set", lib.attr_set);
    bind(handle, "seccomp_arch_resolve_name", lib.arch_resolve_name);
    bind(handle, "seccomp_arch_add", lib.arch_add);
    bind(handle, "seccomp_syscall_resolve_name", lib.syscall_resolve_name);
    bind(handle, "seccomp_rule_add_array", lib.rule_add_array);
    bind(handle, "seccomp_export_bpf", lib.export_bpf);
    bind(handle, "seccomp_version", lib.version);
    return lib;
}

} // namespace

const LibSeccomp& libseccomp() {
    static const LibSeccomp lib = open_libseccomp();
    return lib;
}

} // namespace droplet
