// process.apparmorProfile through libapparmor: droplet refuses a profile the kernel cannot apply
// before it creates anything, and the container process asks for it with aa_change_onexec so
// the profile takes effect at execve.
#pragma once

#include <string>

#include "spec.hpp"

namespace droplet {

// The two calls into the kernel. Tests pass their own to reach the enabled path on a kernel
// without AppArmor; droplet always uses host_apparmor().
struct AppArmorKernel {
    bool (*enabled)();
    int (*change_onexec)(const char* profile); // 0, or -1 with errno
};
const AppArmorKernel& host_apparmor();

bool apparmor_enabled(const AppArmorKernel& kernel = host_apparmor());

// Throws `process.apparmorProfile "x": AppArmor is not enabled on this kernel` when a profile
// is asked for and cannot be applied. Nothing to check without a profile. Call it before
// forking: it also opens libapparmor, which the container's filesystem need not have.
void check_apparmor(const Process& process, const AppArmorKernel& kernel = host_apparmor());

// In the container process, before the capabilities are dropped.
void apply_apparmor(const Process& process, const AppArmorKernel& kernel = host_apparmor());

} // namespace droplet
