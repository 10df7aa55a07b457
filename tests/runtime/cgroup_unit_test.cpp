// The cgroup drivers' pure parts: linux.resources parsing, the cgroup v2 files and systemd
// properties it becomes, cgroupsPath forms, and the v1→v2 conversions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgroup.hpp"
#include "cgroup_resources.hpp"
#include "error.hpp"

namespace droplet {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const raind::Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::map<std::string, std::string> files_of(const std::string& json) {
    std::map<std::string, std::string> out;
    for (const CgroupFileWrite& f : resource_files(parse_resources(json)))
        out[f.file] += (out[f.file].empty() ? "" : "|") + f.value;
    return out;
}

const UnitProperty* find(const std::vector<UnitProperty>& properties, const std::string& name) {
    for (const UnitProperty& p : properties)
        if (p.name == name)
            return &p;
    return nullptr;
}

TEST(CgroupConversions, SharesBecomeWeightsLikeRuncAndCrun) {
    EXPECT_EQ(cpu_shares_to_weight(2), 1u);
    EXPECT_EQ(cpu_shares_to_weight(1024), 39u);
    EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
    EXPECT_EQ(cpu_shares_to_weight(0), 0u); // unset stays unset
    EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
    EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
    EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

TEST(CgroupResources, EveryLimitBecomesItsCgroupV2File) {
    auto files = files_of(R"({
        "memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
        "pids": {"limit": 64},
        "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
        "unified": {"memory.high": "90000000"}
    })");
    EXPECT_EQ(files["memory.max"], "104857600");
    EXPECT_EQ(files["memory.low"], "52428800");
    EXPECT_EQ(files["memory.swap.max"], "104857600"); // OCI swap counts memory + swap
    EXPECT_EQ(files["cpu.weight"], "39");
    EXPECT_EQ(files["cpu.max"], "50000 100000");
    EXPECT_EQ(files["cpuset.cpus"], "0-1");
    EXPECT_EQ(files["cpuset.mems"], "0");
    EXPECT_EQ(files["pids.max"], "64");
    EXPECT_EQ(files["io.weight"], "default 4950");
    EXPECT_EQ(files["io.max"], "8:0 rbps=1048576");
    EXPECT_EQ(files["hugetlb.2MB.max"], "4194304");
    EXPECT_EQ(files["memory.high"], "90000000");
}

TEST(CgroupResources, UnlimitedValuesBecomeMax) {
    auto files = files_of(R"({"memory": {"limit": -1, "swap": -1}, "cpu": {"quota": -1}, "pids": {"limit": 0}})");
    EXPECT_EQ(files["memory.max"], "max");
    EXPECT_EQ(files["memory.swap.max"], "max");
    EXPECT_EQ(files["cpu.max"], "max 100000");
    EXPECT_EQ(files["pids.max"], "max");
}

TEST(CgroupResources, UnlimitedWritesAreMarked) {
    for (const CgroupFileWrite& f :
         resource_files(parse_resources(R"({"memory": {"limit": -1}, "cpu": {"quota": -1}, "pids": {"limit": -1}})")))
        EXPECT_TRUE(f.unlimited()) << f.file << " " << f.value;
    for (const CgroupFileWrite& f : resource_files(parse_resources(R"({"memory": {"limit": 1}, "pids": {"limit": 5}})")))
        EXPECT_FALSE(f.unlimited()) << f.file << " " << f.value;
}

TEST(CgroupResources, EmptyOrNullResourcesWriteNothing) {
    EXPECT_TRUE(resource_files(parse_resources("")).empty());
    EXPECT_TRUE(resource_files(parse_resources("null")).empty());
    EXPECT_TRUE(parse_resources("{}").empty());
}

TEST(CgroupResources, BadValuesNameTheField) {
    EXPECT_EQ(error_of([] { parse_resources(R"({"memory": {"limit": "lots"}})"); }),
              "linux.resources.memory.limit: must be an integer");
    EXPECT_EQ(error_of([] { parse_resources(R"({"pids": {"limit": true}})"); }),
              "linux.resources.pids.limit: must be an integer");
    EXPECT_EQ(error_of([] { parse_resources(R"({"blockIO": {"weight": 5}})"); }),
              "linux.resources.blockIO.weight: must be between 10 and 1000");
    EXPECT_THAT(error_of([] { parse_resources(R"({"devices": [{"allow": true, "type": "x"}]})"); }),
                HasSubstr("linux.resources.devices[0].type"));
    EXPECT_THAT(error_of([] { parse_resources(R"({"devices": [{"allow": true, "access": "rwx"}]})"); }),
                HasSubstr("linux.resources.devices[0].access"));
    EXPECT_THAT(error_of([] { resource_files(parse_resources(R"({"memory": {"limit": 200, "swap": 100}})")); }),
                HasSubstr("linux.resources.memory.swap: must not be below memory.limit"));
    EXPECT_THAT(error_of([] { resource_files(parse_resources(R"({"memory": {"swap": 100}})")); }),
                HasSubstr("needs a memory limit"));
    EXPECT_THAT(error_of([] { parse_resources(R"({"unified": {"../escape": "1"}})"); }),
                HasSubstr("not a cgroup v2 file name"));
    EXPECT_THAT(error_of([] { parse_resources("{not json"); }), HasSubstr("linux.resources: not valid JSON"));
}

TEST(CgroupResources, UpdateOverlaysOnlyWhatItSets) {
    CgroupResources base = parse_resources(R"({"memory": {"limit": 100}, "pids": {"limit": 10}})");
    merge_resources(base, parse_resources(R"({"pids": {"limit": 20}})"));
    EXPECT_EQ(base.memory_limit, 100);
    EXPECT_EQ(base.pids_limit, 20);
}

TEST(CgroupSystemdProperties, ResourcesBecomeUnitProperties) {
    auto props = resource_properties(parse_resources(R"({
        "memory": {"limit": 104857600, "swap": 209715200},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-2,9"},
        "pids": {"limit": 64},
        "blockIO": {"weight": 500, "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}]},
        "unified": {"memory.high": "90000000"}
    })"));
    ASSERT_TRUE(find(props, "MemoryMax"));
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemoryMax")->value), 104857600u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemorySwapMax")->value), 104857600u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemoryHigh")->value), 90000000u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUWeight")->value), 39u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPerSecUSec")->value), 500000u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPeriodUSec")->value), 100000u);
    EXPECT_EQ(std::get<std::vector<uint8_t>>(find(props, "AllowedCPUs")->value), (std::vector<uint8_t>{0x07, 0x02}));
    EXPECT_EQ(std::get<uint64_t>(find(props, "TasksMax")->value), 64u);
    EXPECT_EQ(std::get<uint64_t>(find(props, "IOWeight")->value), 4950u);
    using Limits = std::vector<std::pair<std::string, uint64_t>>;
    EXPECT_EQ(std::get<Limits>(find(props, "IOWriteIOPSMax")->value), (Limits{{"/dev/block/8:16", 100}}));
}

TEST(CgroupSystemdProperties, QuotaRoundsUpToSystemdsOnePercentSteps) {
    auto props = resource_properties(parse_resources(R"({"cpu": {"quota": 12345, "period": 100000}})"));
    EXPECT_EQ(std::get<uint64_t>(find(props, "CPUQuotaPerSecUSec")->value), 130000u);
    props = resource_properties(parse_resources(R"({"memory": {"limit": -1}, "pids": {"limit": -1}})"));
    EXPECT_EQ(std::get<uint64_t>(find(props, "MemoryMax")->value), unit_infinity);
    EXPECT_EQ(std::get<uint64_t>(find(props, "TasksMax")->value), unit_infinity);
}

TEST(CgroupSystemdProperties, DeviceRulesBecomeAStrictAllowList) {
    auto rules = effective_device_rules(
        parse_resources(R"({"devices": [{"allow": false, "access": "rwm"},
                                        {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rw"}]})")
            .devices,
        {{true, 'c', 4, 64, "rwm"}});
    CgroupResources r;
    r.devices = rules;
    auto props = resource_properties(r);
    ASSERT_TRUE(find(props, "DevicePolicy"));
    EXPECT_EQ(std::get<std::string>(find(props, "DevicePolicy")->value), "strict");
    using Allow = std::vector<std::pair<std::string, std::string>>;
    Allow allow = std::get<Allow>(find(props, "DeviceAllow")->value);
    EXPECT_THAT(allow, ::testing::Contains(std::pair<std::string, std::string>{"/dev/char/10:200", "rw"}));
    EXPECT_THAT(allow, ::testing::Contains(std::pair<std::string, std::string>{"/dev/char/1:3", "rwm"}));
    EXPECT_THAT(allow, ::testing::Contains(std::pair<std::string, std::string>{"/dev/char/4:64", "rwm"}));
    EXPECT_THAT(allow, ::testing::Contains(std::pair<std::string, std::string>{"char-pts", "rwm"}));
    EXPECT_THAT(allow, ::testing::Contains(std::pair<std::string, std::string>{"char-*", "m"}));

    // A deny in the middle cannot be said with an allow list: no properties, the eBPF
    // program alone enforces the rules.
    r.devices = parse_resources(R"({"devices": [{"allow": true, "access": "rwm"},
                                                {"allow": false, "type": "c", "major": 1, "minor": 3}]})")
                    .devices;
    props = resource_properties(r);
    EXPECT_FALSE(find(props, "DeviceAllow"));
    EXPECT_FALSE(find(props, "DevicePolicy"));
}

TEST(CgroupSystemdProperties, WhatSystemdCannotSetIsLeftForFiles) {
    std::vector<CgroupFileWrite> leftover;
    resource_properties(parse_resources(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
                                            "unified": {"memory.oom.group": "1"}})"),
                        &leftover);
    ASSERT_EQ(leftover.size(), 2u);
    EXPECT_EQ(leftover[0].file, "memory.oom.group");
    EXPECT_EQ(leftover[0].controller, "memory");
    EXPECT_EQ(leftover[1].file, "hugetlb.2MB.max");
}

TEST(CgroupSystemdProperties, BadCpuListIsNamed) {
    EXPECT_THAT(error_of([] { resource_properties(parse_resources(R"({"cpu": {"cpus": "3-1"}})")); }),
                HasSubstr("linux.resources.cpu.cpus"));
    EXPECT_THAT(error_of([] { resource_properties(parse_resources(R"({"unified": {"memory.high": "lots"}})")); }),
                HasSubstr("unified.memory.high"));
}

TEST(SystemdCgroupsPath, SlicePrefixNameBecomesAScope) {
    auto p = parse_systemd_cgroups_path("machine.slice:libpod:abc123", "ignored");
    EXPECT_EQ(p.slice, "machine.slice");
    EXPECT_EQ(p.unit, "libpod-abc123.scope");
    p = parse_systemd_cgroups_path("raind.slice:raind:c1", "c1");
    EXPECT_EQ(p.unit, "raind-c1.scope");
    p = parse_systemd_cgroups_path(":droplet:x", "x");
    EXPECT_EQ(p.slice, "system.slice");
    p = parse_systemd_cgroups_path("user.slice::name", "x");
    EXPECT_EQ(p.unit, "name.scope");
    p = parse_systemd_cgroups_path("", "myid");
    EXPECT_EQ(p.slice, "system.slice");
    EXPECT_EQ(p.unit, "droplet-myid.scope");
}

TEST(SystemdCgroupsPath, InvalidFormsAreRejectedClearly) {
    EXPECT_THAT(error_of([] { parse_systemd_cgroups_path("/machine/abc", "abc"); }),
                HasSubstr("must have the form slice:prefix:name"));
    EXPECT_THAT(error_of([] { parse_systemd_cgroups_path("a.slice:b", "x"); }),
                HasSubstr("must have the form slice:prefix:name"));
    EXPECT_THAT(error_of([] { parse_systemd_cgroups_path("a.slice:b:c:d", "x"); }),
                HasSubstr("must have the form slice:prefix:name"));
    EXPECT_THAT(error_of([] { parse_systemd_cgroups_path("machine:libpod:x", "x"); }),
                HasSubstr("the slice \"machine\" must be a unit name ending in .slice"));
    EXPECT_THAT(error_of([] { parse_systemd_cgroups_path("machine.slice:libpod:", "x"); }),
                HasSubstr("the name (after the second ':') is empty"));
    EXPECT_THAT(error_of([] { parse_systemd_cgroups_path("machine.slice:lib/pod:x", "x"); }),
                HasSubstr("the prefix \"lib/pod\" holds a character"));
}

} // namespace
} // namespace droplet
