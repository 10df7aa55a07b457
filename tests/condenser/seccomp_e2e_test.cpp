// condenser's config.json seccomp choices run through the real droplet binary in busybox
// containers: what a program in the container is refused, and that nothing is left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "container_options.hpp"
#include "container_spec.hpp"
#include "droplet_harness.hpp"

namespace {

using droplet::test::DropletTest;
using droplet::test::Output;
using Options = std::map<std::string, sdbus::Variant>;
using Strings = std::vector<std::string>;
using testing::HasSubstr;
using testing::Not;

// Runs `script` with sh in a container whose config.json is condenser's for `options`, on the
// shared busybox rootfs (read-only, so tests cannot change it for each other).
Output run_container(const Options& options, const std::string& script) {
    DropletTest t;
    raind::images::ImageConfig image;
    image.cmd = {"/bin/sh", "-c", script};
    std::string id(64, 'c');
    auto parsed = condenser::parse_container_options(options);
    auto spec = condenser::container_spec(condenser::apply_to_image(image, parsed),
                                          {id, {}, {}, droplet::test::busybox_rootfs()});
    condenser::apply_to_spec(spec, parsed);
    spec["root"] = {{"path", droplet::test::busybox_rootfs()}, {"readonly", true}};
    // condenser's cgroup is a systemd scope (droplet --systemd-cgroup under condenser); the
    // harness gives each test a cgroup of its own instead.
    spec["linux"].erase("cgroupsPath");
    t.config() = spec;
    Output out = t.run("seccomp");
    t.expect_nothing_left("seccomp");
    return out;
}

const std::string probe_script =
    "echo ok; "
    "unshare -U true && echo unshare=yes || echo unshare=no; "
    "mount -t tmpfs x /root && echo mount=yes || echo mount=no";

TEST(SeccompE2E, DefaultProfileRefusesNamespacesAndMountsButRunsPrograms) {
    Output out = run_container({}, probe_script);
    EXPECT_EQ(out.status, 0) << out.err;
    EXPECT_THAT(out.out, HasSubstr("ok\n"));
    EXPECT_THAT(out.out, HasSubstr("unshare=no"));
    EXPECT_THAT(out.out, HasSubstr("mount=no"));
    EXPECT_THAT(out.err, HasSubstr("unshare(0x10000000): Operation not permitted"));
    EXPECT_THAT(out.err, HasSubstr("Operation not permitted"));
    EXPECT_THAT(out.err, Not(HasSubstr("unknown to libseccomp"))); // droplet warns about no name
}

TEST(SeccompE2E, UnconfinedLetsTheKernelDecide) {
    // A user namespace needs no capability: only the filter refused it above.
    Output out = run_container({{"security_opt", sdbus::Variant(Strings{"seccomp=unconfined"})}}, probe_script);
    EXPECT_THAT(out.out, HasSubstr("unshare=yes"));
    // Without CAP_SYS_ADMIN the kernel refuses the mount itself.
    EXPECT_THAT(out.out, HasSubstr("mount=no"));

    out = run_container({{"security_opt", sdbus::Variant(Strings{"seccomp=unconfined"})},
                         {"cap_add", sdbus::Variant(Strings{"SYS_ADMIN"})}},
                        probe_script);
    EXPECT_THAT(out.out, HasSubstr("unshare=yes"));
    EXPECT_THAT(out.out, HasSubstr("mount=yes"));
}

TEST(SeccompE2E, CapSysAdminOpensTheDefaultProfilesMountGroup) {
    Output out = run_container({{"cap_add", sdbus::Variant(Strings{"SYS_ADMIN"})}}, probe_script);
    EXPECT_EQ(out.status, 0) << out.err;
    EXPECT_THAT(out.out, HasSubstr("mount=yes"));
    EXPECT_THAT(out.out, HasSubstr("unshare=yes"));
}

TEST(SeccompE2E, CustomProfileFromTheOptionIsEnforced) {
    // Docker's format, as a user would write it: everything allowed but mkdir, which gets EACCES.
    nlohmann::json profile = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls",
         {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13},
           {"excludes", {{"caps", {"CAP_SYS_ADMIN"}}}}}}},
    };
    Output out = run_container({{"seccomp_profile", sdbus::Variant(profile.dump())},
                                {"tmpfs", sdbus::Variant(Strings{"/tmp"})}},
                               "mkdir /tmp/d && echo mkdir=yes || echo mkdir=no");
    EXPECT_THAT(out.out, HasSubstr("mkdir=no"));
    EXPECT_THAT(out.err, HasSubstr("Permission denied"));
    out = run_container({{"seccomp_profile", sdbus::Variant(profile.dump())},
                         {"tmpfs", sdbus::Variant(Strings{"/tmp"})},
                         {"cap_add", sdbus::Variant(Strings{"SYS_ADMIN"})}},
                        "mkdir /tmp/d && echo mkdir=yes || echo mkdir=no");
    EXPECT_THAT(out.out, HasSubstr("mkdir=yes"));
}

} // namespace
