#include "apparmor.hpp"

#include <sys/apparmor.h>

#include <cerrno>

#include "error.hpp"

namespace droplet {
namespace {

bool host_enabled() { return aa_is_enabled() == 1; }

std::string field(const Process& process) { return "process.apparmorProfile \"" + process.apparmor_profile + "\""; }

} // namespace

const AppArmorKernel& host_apparmor() {
    static const AppArmorKernel kernel{host_enabled, aa_change_onexec};
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
