// process.apparmorProfile: refused on a kernel without AppArmor (this one), and applied through
// aa_change_onexec where the kernel has it (reached here through a stand-in kernel).
#include <gtest/gtest.h>
#include <sys/apparmor.h>

#include <cerrno>
#include <string>

#include "apparmor.hpp"
#include "error.hpp"

namespace droplet {
namespace {

std::string check_error(const Process& process, const AppArmorKernel& kernel) {
    try {
        check_apparmor(process, kernel);
    } catch (const raind::Error& e) {
        return e.what();
    }
    return "(accepted)";
}

Process with_profile(const std::string& profile) {
    Process p;
    p.apparmor_profile = profile;
    return p;
}

TEST(AppArmor, ThisKernelRefusesAProfileClearly) {
    if (aa_is_enabled() == 1)
        GTEST_SKIP() << "AppArmor is enabled on this kernel";
    EXPECT_FALSE(apparmor_enabled());
    EXPECT_EQ(check_error(with_profile("docker-default"), host_apparmor()),
              "process.apparmorProfile \"docker-default\": AppArmor is not enabled on this kernel");
    // No profile asked for: nothing to refuse, nothing applied.
    EXPECT_EQ(check_error(Process{}, host_apparmor()), "(accepted)");
    EXPECT_NO_THROW(apply_apparmor(Process{}));
}

// A kernel with AppArmor: records what droplet asks of it.
std::string requested;
int change_result = 0;
int change_errno = 0;
const AppArmorKernel enabled_kernel{
    [] { return true; },
    [](const char* profile) {
        requested = profile;
        errno = change_errno;
        return change_result;
    },
};

TEST(AppArmor, EnabledKernelGetsTheProfileForTheNextExec) {
    requested.clear();
    change_result = 0;
    EXPECT_TRUE(apparmor_enabled(enabled_kernel));
    EXPECT_EQ(check_error(with_profile("docker-default"), enabled_kernel), "(accepted)");
    apply_apparmor(with_profile("docker-default"), enabled_kernel);
    EXPECT_EQ(requested, "docker-default");

    requested.clear();
    apply_apparmor(Process{}, enabled_kernel);
    EXPECT_EQ(requested, "") << "no profile: the kernel is not asked";
}

TEST(AppArmor, AProfileTheKernelRejectsIsAnError) {
    change_result = -1;
    change_errno = ENOENT;
    try {
        apply_apparmor(with_profile("no-such-profile"), enabled_kernel);
        FAIL() << "accepted a profile the kernel rejected";
    } catch (const raind::Error& e) {
        EXPECT_STREQ(e.what(), "process.apparmorProfile \"no-such-profile\": aa_change_onexec: No such file or directory");
    }
}

} // namespace
} // namespace droplet
