// CreateContainer's options: checked before anything changes (unknown keys, wrong types and bad
// values refused by name), then applied to the image config and config.json.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "container_options.hpp"
#include "container_spec.hpp"

namespace {

using condenser::ContainerOptions;
using condenser::InvalidContainerArgument;
using condenser::parse_container_options;
using Options = std::map<std::string, sdbus::Variant>;
using nlohmann::json;
using testing::HasSubstr;

std::string error_of(const Options& options) {
    try {
        parse_container_options(options);
    } catch (const InvalidContainerArgument& e) {
        return e.what();
    }
    return "(accepted)";
}

json spec_for(const Options& options) {
    raind::images::ImageConfig image;
    image.cmd = {"/bin/sh"};
    condenser::ContainerRequest request{std::string(64, 'a'), {}, {}, "/nonexistent"};
    auto parsed = parse_container_options(options);
    auto spec = condenser::container_spec(condenser::apply_to_image(image, parsed), request);
    condenser::apply_to_spec(spec, parsed);
    return spec;
}

TEST(ContainerOptions, UnknownWrongTypeAndBadValuesAreRefusedByName) {
    EXPECT_THAT(error_of({{"frobnicate", sdbus::Variant(true)}}), HasSubstr("\"frobnicate\""));
    EXPECT_THAT(error_of({{"memory", sdbus::Variant(std::string("64m"))}}), HasSubstr("\"memory\" must be of D-Bus type t"));
    EXPECT_THAT(error_of({{"network", sdbus::Variant(std::string("bridge"))}}), HasSubstr("network \"bridge\""));
    EXPECT_THAT(error_of({{"restart", sdbus::Variant(std::string("sometimes"))}}), HasSubstr("sometimes"));
    EXPECT_THAT(error_of({{"name", sdbus::Variant(std::string("-bad"))}}), HasSubstr("\"-bad\" is not valid"));
    EXPECT_THAT(error_of({{"cap_add", sdbus::Variant(std::vector<std::string>{"FLY"})}}), HasSubstr("\"FLY\""));
    EXPECT_THAT(error_of({{"volumes", sdbus::Variant(std::vector<std::string>{"/tmp"})}}), HasSubstr("host-path:container-path"));
    EXPECT_THAT(error_of({{"volumes", sdbus::Variant(std::vector<std::string>{"/tmp:data"})}}), HasSubstr("not an absolute"));
    EXPECT_THAT(error_of({{"tmpfs", sdbus::Variant(std::vector<std::string>{"/run:uid=5"})}}), HasSubstr("\"uid=5\""));
    EXPECT_THAT(error_of({{"security_opt", sdbus::Variant(std::vector<std::string>{"label=disable"})}}),
                HasSubstr("not supported yet"));
    EXPECT_THAT(error_of({{"env", sdbus::Variant(std::vector<std::string>{"=x"})}}), HasSubstr("KEY=value"));
    EXPECT_EQ(error_of({{"name", sdbus::Variant(std::string("web-1.a_b"))}}), "(accepted)");
}

TEST(ContainerOptions, ResourcesNamespacesAndMountsReachConfigJson) {
    auto spec = spec_for({
        {"memory", sdbus::Variant(uint64_t{64 << 20})},
        {"cpus", sdbus::Variant(1.5)},
        {"pids_limit", sdbus::Variant(int64_t{50})},
        {"network", sdbus::Variant(std::string("host"))},
        {"read_only", sdbus::Variant(true)},
        {"tty", sdbus::Variant(true)},
        {"hostname", sdbus::Variant(std::string("box"))},
        {"volumes", sdbus::Variant(std::vector<std::string>{"/tmp:/data:ro"})},
        {"tmpfs", sdbus::Variant(std::vector<std::string>{"/scratch:size=1m"})},
        {"security_opt", sdbus::Variant(std::vector<std::string>{"no-new-privileges"})},
    });
    EXPECT_EQ(spec["linux"]["resources"]["memory"]["limit"], 64 << 20);
    EXPECT_EQ(spec["linux"]["resources"]["cpu"]["quota"], 150000);
    EXPECT_EQ(spec["linux"]["resources"]["cpu"]["period"], 100000);
    EXPECT_EQ(spec["linux"]["resources"]["pids"]["limit"], 50);
    for (const auto& ns : spec["linux"]["namespaces"])
        EXPECT_NE(ns["type"], "network");
    EXPECT_TRUE(spec["root"]["readonly"].get<bool>());
    EXPECT_TRUE(spec["process"]["terminal"].get<bool>());
    EXPECT_THAT(spec["process"]["env"].dump(), HasSubstr("TERM=xterm"));
    EXPECT_EQ(spec["hostname"], "box");
    EXPECT_TRUE(spec["process"]["noNewPrivileges"].get<bool>());
    // The default profile is an allow-list (its contents: seccomp_profile_test).
    EXPECT_EQ(spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    EXPECT_THAT(spec["linux"]["seccomp"]["syscalls"][0]["names"].dump(), HasSubstr("\"execve\""));
    EXPECT_THAT(spec["linux"]["seccomp"].dump(), testing::Not(HasSubstr("\"kexec_load\"")));
    EXPECT_FALSE(spec_for({{"security_opt", sdbus::Variant(std::vector<std::string>{"seccomp=unconfined"})}})["linux"]
                     .contains("seccomp"));
    auto mounts = spec["mounts"].dump();
    EXPECT_THAT(mounts, HasSubstr(R"({"destination":"/data","options":["rbind","ro"],"source":"/tmp","type":"bind"})"));
    EXPECT_THAT(mounts, HasSubstr("size=1m"));
}

TEST(ContainerOptions, CapabilitiesEntrypointUserAndWorkdir) {
    auto spec = spec_for({
        {"cap_add", sdbus::Variant(std::vector<std::string>{"net_admin"})},
        {"cap_drop", sdbus::Variant(std::vector<std::string>{"CAP_CHOWN", "KILL"})},
        {"entrypoint", sdbus::Variant(std::vector<std::string>{"/bin/echo"})},
        {"user", sdbus::Variant(std::string("1000:1000"))},
        {"workdir", sdbus::Variant(std::string("/srv"))},
    });
    auto bounding = spec["process"]["capabilities"]["bounding"].get<std::vector<std::string>>();
    EXPECT_THAT(bounding, testing::Contains("CAP_NET_ADMIN"));
    EXPECT_THAT(bounding, testing::Not(testing::Contains("CAP_CHOWN")));
    EXPECT_THAT(bounding, testing::Not(testing::Contains("CAP_KILL")));
    // --entrypoint drops the image's Cmd, as Docker does.
    EXPECT_EQ(spec["process"]["args"], json({"/bin/echo"}));
    EXPECT_EQ(spec["process"]["user"]["uid"], 1000);
    EXPECT_EQ(spec["process"]["cwd"], "/srv");

    auto none = spec_for({{"cap_drop", sdbus::Variant(std::vector<std::string>{"ALL"})}});
    EXPECT_TRUE(none["process"]["capabilities"]["bounding"].empty());
}

TEST(ContainerOptions, SignalsByNameOrNumber) {
    EXPECT_EQ(condenser::parse_signal("KILL"), SIGKILL);
    EXPECT_EQ(condenser::parse_signal("sigterm"), SIGTERM);
    EXPECT_EQ(condenser::parse_signal("10"), 10);
    EXPECT_THROW(condenser::parse_signal("SIGNOPE"), InvalidContainerArgument);
    EXPECT_THROW(condenser::parse_signal("0"), InvalidContainerArgument);
    EXPECT_THROW(condenser::parse_signal("9x"), InvalidContainerArgument);
}

} // namespace
