// linux.resources of the OCI spec, and how it maps onto cgroup v2 files (the cgroupfs driver)
// and onto systemd unit properties (the systemd driver). Pure data: no kernel, no bus.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace droplet {

struct DeviceRule {
    bool allow = false;
    char type = 'a';      // a, c, b
    int64_t major = -1;   // -1: any
    int64_t minor = -1;   // -1: any
    std::string access;   // subset of "rwm"
};

struct BlockDeviceRate {
    int64_t major = 0;
    int64_t minor = 0;
    uint64_t rate = 0;
};

struct BlockDeviceWeight {
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint64_t> weight;
};

struct HugepageLimit {
    std::string page_size; // "2MB", "1GB"
    uint64_t limit = 0;
};

struct CgroupResources {
    std::vector<DeviceRule> devices;
    // memory: -1 means unlimited
    std::optional<int64_t> memory_limit, memory_reservation, memory_swap;
    // cpu
    std::optional<uint64_t> cpu_shares;
    std::optional<int64_t> cpu_quota; // -1: unlimited
    std::optional<uint64_t> cpu_period;
    std::optional<int64_t> cpu_idle;
    std::string cpus, mems;
    // pids: 0 or -1 means unlimited
    std::optional<int64_t> pids_limit;
    // block IO
    std::optional<uint64_t> blkio_weight;
    std::vector<BlockDeviceWeight> blkio_weight_devices;
    std::vector<BlockDeviceRate> read_bps, write_bps, read_iops, write_iops;
    std::vector<HugepageLimit> hugepages;
    // linux.resources.unified: cgroup v2 file → value, written as given
    std::map<std::string, std::string> unified;

    bool empty() const;
};

// Parses linux.resources JSON text ("" or "null" is empty). Errors name the field:
// "linux.resources.memory.limit: must be an integer".
CgroupResources parse_resources(const std::string& json_text);

// Overlays the fields set in `update` on `base` (what `droplet update` does).
void merge_resources(CgroupResources& base, const CgroupResources& update);

// The device rules to enforce: the spec's, then (so they win) mknod of any node, the devices
// every container gets (null, zero, full, random, urandom, tty, console, ptmx, pts) and the
// spec's linux.devices — what runc and crun allow. Anything else is denied.
std::vector<DeviceRule> effective_device_rules(const std::vector<DeviceRule>& spec_rules,
                                               const std::vector<DeviceRule>& device_nodes);

// cpu.shares (2..262144) → cpu.weight (1..10000), the conversion runc and crun use.
uint64_t cpu_shares_to_weight(uint64_t shares);
// blkio.weight (10..1000) → io.weight (1..10000).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

struct CgroupFileWrite {
    std::string controller; // the controller cgroup.controllers must list; "" for core files
    std::string file;       // relative to the container's cgroup directory
    std::string value;
    // "max" and the like: asks for no limit, so a hierarchy without the controller satisfies it.
    bool unlimited() const;
};

// The cgroup v2 files to write, in order. Throws for inconsistent values
// (memory.swap below memory.limit, swap without a limit).
std::vector<CgroupFileWrite> resource_files(const CgroupResources& resources);

// A systemd unit property as sent in StartTransientUnit / SetUnitProperties: the D-Bus
// signatures are b, t, s, ay (CPU sets as bitmasks), a(ss) (DeviceAllow), a(st) (IO limits).
using PropertyValue = std::variant<bool, uint64_t, std::string, std::vector<uint8_t>,
                                   std::vector<std::pair<std::string, std::string>>,
                                   std::vector<std::pair<std::string, uint64_t>>>;
struct UnitProperty {
    std::string name;
    PropertyValue value;
};

inline constexpr uint64_t unit_infinity = UINT64_MAX;

// The unit properties for these resources; `leftover` gets what systemd has no property for
// (hugetlb, cpu.idle, unified keys it does not know), to be written as files in the scope.
std::vector<UnitProperty> resource_properties(const CgroupResources& resources,
                                              std::vector<CgroupFileWrite>* leftover = nullptr);

// "0-3,5" → bitmask bytes, least significant CPU first (systemd's AllowedCPUs format).
std::vector<uint8_t> cpu_list_to_mask(const std::string& list, const char* field);

} // namespace droplet
