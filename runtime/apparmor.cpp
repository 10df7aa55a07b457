#include "apparmor.hpp"

#include <dlfcn.h>
#include <sys/apparmor.h>

#include <cerrno>

#include "error.hpp"

namespace droplet {
namespace {

// libapparmor is opened only when a profile is asked for: linking it would cost every
// droplet start, and most containers name no profile.
struct LibAppArmor {
    decltype(&::aa_is_enabled) is_enabled = nullptr;
    decltype(&::aa_change_onexec) change_onexec = nullptr;
};

const LibAppArmor& libapparmor() {
    static const LibAppArmor lib = [] {
        LibAppArmor l;
        // Never closed: used until droplet execs or exits.
        if (void* handle = ::dlopen("libapparmor.so.1", RTLD_NOW | RTLD_LOCAL)) {
            l.is_enabled = reinterpret_cast<decltype(l.is_enabled)>(::dlsym(handle, "aa_is_enabled"));
            l.change_onexec = reinterpret_cast<decltype(l.change_onexec)>(::dlsym(handle, "aa_change_onexec"));
        }
        return l;
    }();
    return lib;
}

// Without libapparmor nothing can load a profile: as good as a kernel without AppArmor.
bool host_enabled() { return libapparmor().is_enabled && libapparmor().is_enabled() == 1; }

int host_change_onexec(const char* profile) {
    if (!libapparmor().change_onexec) {
        errno = ENOSYS;
        return -1;
    }
    return libapparmor().change_onexec(profile);
}

std::string field(const Process& process) { return "process.apparmorProfile \"" + process.apparmor_profile + "\""; }

} // namespace

const AppArmorKernel& host_apparmor() {
    static const AppArmorKernel kernel{host_enabled, host_change_onexec};
    return kernel;
}

bool apparmor_enabled(const AppArmorKernel& kernel) { return kernel.enabled(); }

void check_apparmor(const Process& process, const AppArmorKernel& kernel) {
    if (!process.apparmor_profile.empty() && !kernel.enabled())
        throw raind::Error(field(process) + ": AppArmor is not enabled on this kernel");
}

void apply_apparmor(const Process& process, const AppArmorKernel& kernel) {
    if (process.apparmor_profile.empty())
        return;
    if (kernel.change_onexec(process.apparmor_profile.c_str()) < 0)
        raind::throw_errno(field(process) + ": aa_change_onexec");
}

} // namespace droplet
