#include "cgroup_resources.hpp"

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "error.hpp"

namespace droplet {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
    throw raind::Error("linux.resources." + field + ": " + why);
}

std::optional<int64_t> get_int(const json& object, const char* key, const std::string& field) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return std::nullopt;
    if (!it->is_number_integer())
        bad(field + "." + key, "must be an integer");
    return it->get<int64_t>();
}

std::optional<uint64_t> get_uint(const json& object, const char* key, const std::string& field) {
    auto v = get_int(object, key, field);
    if (v && *v < 0)
        bad(field + "." + key, "must not be negative");
    return v ? std::optional<uint64_t>(static_cast<uint64_t>(*v)) : std::nullopt;
}

std::string get_string(const json& object, const char* key, const std::string& field) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return {};
    if (!it->is_string())
        bad(field + "." + key, "must be a string");
    return it->get<std::string>();
}

const json* get_object(const json& object, const char* key, const std::string& field) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return nullptr;
    if (!it->is_object())
        bad(field.empty() ? key : field + "." + key, "must be an object");
    return &*it;
}

const json* get_array(const json& object, const char* key, const std::string& field) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return nullptr;
    if (!it->is_array())
        bad(field + "." + key, "must be an array");
    return &*it;
}

void parse_devices(const json& list, CgroupResources& r) {
    for (size_t i = 0; i < list.size(); ++i) {
        std::string field = "devices[" + std::to_string(i) + "]";
        const json& d = list[i];
        if (!d.is_object())
            bad(field, "must be an object");
        DeviceRule rule;
        auto allow = d.find("allow");
        if (allow == d.end() || !allow->is_boolean())
            bad(field + ".allow", "is required and must be true or false");
        rule.allow = allow->get<bool>();
        std::string type = get_string(d, "type", field);
        if (type.empty())
            type = "a";
        if (type != "a" && type != "c" && type != "b")
            bad(field + ".type", "\"" + type + "\" is not one of a, c, b");
        rule.type = type[0];
        rule.major = get_int(d, "major", field).value_or(-1);
        rule.minor = get_int(d, "minor", field).value_or(-1);
        rule.access = get_string(d, "access", field);
        if (rule.access.empty())
            rule.access = "rwm";
        for (char c : rule.access)
            if (c != 'r' && c != 'w' && c != 'm')
                bad(field + ".access", "\"" + rule.access + "\" may only hold r, w and m");
        r.devices.push_back(rule);
    }
}

std::vector<BlockDeviceRate> parse_rates(const json& object, const char* key, const std::string& field) {
    std::vector<BlockDeviceRate> rates;
    const json* list = get_array(object, key, field);
    if (!list)
        return rates;
    for (size_t i = 0; i < list->size(); ++i) {
        std::string f = field + "." + key + "[" + std::to_string(i) + "]";
        const json& d = (*list)[i];
        if (!d.is_object())
            bad(f, "must be an object");
        BlockDeviceRate rate;
        auto major = get_int(d, "major", f), minor = get_int(d, "minor", f);
        auto value = get_uint(d, "rate", f);
        if (!major || !minor || !value)
            bad(f, "major, minor and rate are required");
        rate.major = *major;
        rate.minor = *minor;
        rate.rate = *value;
        rates.push_back(rate);
    }
    return rates;
}

void parse_block_io(const json& b, CgroupResources& r) {
    const std::string field = "blockIO";
    r.blkio_weight = get_uint(b, "weight", field);
    if (r.blkio_weight && (*r.blkio_weight < 10 || *r.blkio_weight > 1000))
        bad(field + ".weight", "must be between 10 and 1000");
    if (const json* list = get_array(b, "weightDevice", field)) {
        for (size_t i = 0; i < list->size(); ++i) {
            std::string f = field + ".weightDevice[" + std::to_string(i) + "]";
            const json& d = (*list)[i];
            if (!d.is_object())
                bad(f, "must be an object");
            BlockDeviceWeight w;
            auto major = get_int(d, "major", f), minor = get_int(d, "minor", f);
            if (!major || !minor)
                bad(f, "major and minor are required");
            w.major = *major;
            w.minor = *minor;
            w.weight = get_uint(d, "weight", f);
            if (w.weight && (*w.weight < 10 || *w.weight > 1000))
                bad(f + ".weight", "must be between 10 and 1000");
            r.blkio_weight_devices.push_back(w);
        }
    }
    r.read_bps = parse_rates(b, "throttleReadBpsDevice", field);
    r.write_bps = parse_rates(b, "throttleWriteBpsDevice", field);
    r.read_iops = parse_rates(b, "throttleReadIOPSDevice", field);
    r.write_iops = parse_rates(b, "throttleWriteIOPSDevice", field);
}

std::string limit_value(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

std::string device_number(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

// The OCI swap limit counts memory plus swap; cgroup v2 and systemd count swap alone.
std::optional<std::string> swap_only(const CgroupResources& r) {
    if (!r.memory_swap)
        return std::nullopt;
    if (*r.memory_swap < 0)
        return "max";
    if (!r.memory_limit || *r.memory_limit < 0)
        bad("memory.swap", "a swap limit needs a memory limit (memory.limit)");
    if (*r.memory_swap < *r.memory_limit)
        bad("memory.swap", "must not be below memory.limit (it counts memory plus swap)");
    return std::to_string(*r.memory_swap - *r.memory_limit);
}

void add_io_max(std::vector<CgroupFileWrite>& files, const std::vector<BlockDeviceRate>& rates, const char* key) {
    for (const BlockDeviceRate& rate : rates)
        files.push_back({"io", "io.max",
                         device_number(rate.major, rate.minor) + " " + key + "=" + std::to_string(rate.rate)});
}

} // namespace

bool CgroupFileWrite::unlimited() const { return value == "max" || value.rfind("max ", 0) == 0; }

bool CgroupResources::empty() const {
    return devices.empty() && !memory_limit && !memory_reservation && !memory_swap && !cpu_shares && !cpu_quota &&
           !cpu_period && !cpu_idle && cpus.empty() && mems.empty() && !pids_limit && !blkio_weight &&
           blkio_weight_devices.empty() && read_bps.empty() && write_bps.empty() && read_iops.empty() &&
           write_iops.empty() && hugepages.empty() && unified.empty();
}

CgroupResources parse_resources(const std::string& text) {
    CgroupResources r;
    if (text.empty())
        return r;
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw raind::Error(std::string("linux.resources: not valid JSON: ") + e.what());
    }
    if (j.is_null())
        return r;
    if (!j.is_object())
        throw raind::Error("linux.resources: must be an object");
    if (const json* devices = get_array(j, "devices", ""))
        parse_devices(*devices, r);
    if (const json* m = get_object(j, "memory", "")) {
        r.memory_limit = get_int(*m, "limit", "memory");
        r.memory_reservation = get_int(*m, "reservation", "memory");
        r.memory_swap = get_int(*m, "swap", "memory");
    }
    if (const json* c = get_object(j, "cpu", "")) {
        r.cpu_shares = get_uint(*c, "shares", "cpu");
        r.cpu_quota = get_int(*c, "quota", "cpu");
        r.cpu_period = get_uint(*c, "period", "cpu");
        r.cpu_idle = get_int(*c, "idle", "cpu");
        r.cpus = get_string(*c, "cpus", "cpu");
        r.mems = get_string(*c, "mems", "cpu");
        if (r.cpu_period && *r.cpu_period == 0)
            bad("cpu.period", "must not be 0");
    }
    if (const json* p = get_object(j, "pids", ""))
        r.pids_limit = get_int(*p, "limit", "pids");
    if (const json* b = get_object(j, "blockIO", ""))
        parse_block_io(*b, r);
    if (const json* list = get_array(j, "hugepageLimits", "")) {
        for (size_t i = 0; i < list->size(); ++i) {
            std::string f = "hugepageLimits[" + std::to_string(i) + "]";
            const json& h = (*list)[i];
            if (!h.is_object())
                bad(f, "must be an object");
            HugepageLimit limit{get_string(h, "pageSize", f), get_uint(h, "limit", f).value_or(0)};
            if (limit.page_size.empty())
                bad(f + ".pageSize", "is required");
            r.hugepages.push_back(limit);
        }
    }
    if (const json* u = get_object(j, "unified", "")) {
        for (auto& [key, value] : u->items()) {
            if (!value.is_string())
                bad("unified." + key, "must be a string");
            if (key.empty() || key.find('/') != std::string::npos || key.find('.') == std::string::npos)
                bad("unified." + key, "is not a cgroup v2 file name");
            r.unified[key] = value.get<std::string>();
        }
    }
    return r;
}

void merge_resources(CgroupResources& base, const CgroupResources& u) {
    auto take = [](auto& to, const auto& from) {
        if (from)
            to = from;
    };
    take(base.memory_limit, u.memory_limit);
    take(base.memory_reservation, u.memory_reservation);
    take(base.memory_swap, u.memory_swap);
    take(base.cpu_shares, u.cpu_shares);
    take(base.cpu_quota, u.cpu_quota);
    take(base.cpu_period, u.cpu_period);
    take(base.cpu_idle, u.cpu_idle);
    take(base.pids_limit, u.pids_limit);
    take(base.blkio_weight, u.blkio_weight);
    if (!u.cpus.empty())
        base.cpus = u.cpus;
    if (!u.mems.empty())
        base.mems = u.mems;
    if (!u.devices.empty())
        base.devices = u.devices;
    if (!u.blkio_weight_devices.empty())
        base.blkio_weight_devices = u.blkio_weight_devices;
    for (auto [to, from] : {std::pair{&base.read_bps, &u.read_bps}, std::pair{&base.write_bps, &u.write_bps},
                            std::pair{&base.read_iops, &u.read_iops}, std::pair{&base.write_iops, &u.write_iops}})
        if (!from->empty())
            *to = *from;
    if (!u.hugepages.empty())
        base.hugepages = u.hugepages;
    for (auto& [key, value] : u.unified)
        base.unified[key] = value;
}

std::vector<DeviceRule> effective_device_rules(const std::vector<DeviceRule>& spec_rules,
                                               const std::vector<DeviceRule>& device_nodes) {
    std::vector<DeviceRule> rules = spec_rules;
    const DeviceRule defaults[] = {
        {true, 'c', -1, -1, "m"},   {true, 'b', -1, -1, "m"},  {true, 'c', 1, 3, "rwm"}, {true, 'c', 1, 5, "rwm"},
        {true, 'c', 1, 7, "rwm"},   {true, 'c', 1, 8, "rwm"},  {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},
        {true, 'c', 5, 1, "rwm"},   {true, 'c', 5, 2, "rwm"},  {true, 'c', 136, -1, "rwm"},
    };
    rules.insert(rules.end(), std::begin(defaults), std::end(defaults));
    rules.insert(rules.end(), device_nodes.begin(), device_nodes.end());
    return rules;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight == 0)
        return 0;
    if (weight < 10)
        weight = 10;
    if (weight > 1000)
        weight = 1000;
    return 1 + (weight - 10) * 9999 / 990;
}

std::vector<CgroupFileWrite> resource_files(const CgroupResources& r) {
    std::vector<CgroupFileWrite> files;
    if (r.memory_limit)
        files.push_back({"memory", "memory.max", limit_value(*r.memory_limit)});
    if (r.memory_reservation)
        files.push_back({"memory", "memory.low", limit_value(*r.memory_reservation)});
    if (auto swap = swap_only(r))
        files.push_back({"memory", "memory.swap.max", *swap});
    if (r.cpu_shares && *r.cpu_shares)
        files.push_back({"cpu", "cpu.weight", std::to_string(cpu_shares_to_weight(*r.cpu_shares))});
    if (r.cpu_quota || r.cpu_period) {
        std::string quota = r.cpu_quota && *r.cpu_quota > 0 ? std::to_string(*r.cpu_quota) : "max";
        files.push_back({"cpu", "cpu.max", quota + " " + std::to_string(r.cpu_period.value_or(100000))});
    }
    if (r.cpu_idle)
        files.push_back({"cpu", "cpu.idle", std::to_string(*r.cpu_idle)});
    if (!r.cpus.empty())
        files.push_back({"cpuset", "cpuset.cpus", r.cpus});
    if (!r.mems.empty())
        files.push_back({"cpuset", "cpuset.mems", r.mems});
    if (r.pids_limit)
        files.push_back({"pids", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"});
    if (r.blkio_weight)
        files.push_back({"io", "io.weight", "default " + std::to_string(blkio_weight_to_io_weight(*r.blkio_weight))});
    for (const BlockDeviceWeight& w : r.blkio_weight_devices)
        if (w.weight)
            files.push_back({"io", "io.weight",
                             device_number(w.major, w.minor) + " " +
                                 std::to_string(blkio_weight_to_io_weight(*w.weight))});
    add_io_max(files, r.read_bps, "rbps");
    add_io_max(files, r.write_bps, "wbps");
    add_io_max(files, r.read_iops, "riops");
    add_io_max(files, r.write_iops, "wiops");
    for (const HugepageLimit& h : r.hugepages)
        files.push_back({"hugetlb", "hugetlb." + h.page_size + ".max", std::to_string(h.limit)});
    for (const auto& [key, value] : r.unified) {
        std::string controller = key.substr(0, key.find('.'));
        files.push_back({controller == "cgroup" ? "" : controller, key, value});
    }
    return files;
}

std::vector<uint8_t> cpu_list_to_mask(const std::string& list, const char* field) {
    std::vector<uint8_t> mask;
    size_t pos = 0;
    while (pos < list.size()) {
        size_t comma = list.find(',', pos);
        std::string part = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? list.size() : comma + 1;
        if (part.empty())
            continue;
        size_t dash = part.find('-');
        char* end = nullptr;
        unsigned long first = std::strtoul(part.c_str(), &end, 10);
        bool ok = end != part.c_str() && (*end == 0 || *end == '-');
        unsigned long last = first;
        if (ok && dash != std::string::npos) {
            const char* second = part.c_str() + dash + 1;
            last = std::strtoul(second, &end, 10);
            ok = end != second && *end == 0 && last >= first;
        }
        if (!ok || last >= 8192)
            bad(field, "\"" + list + "\" is not a list like 0-3,5");
        for (unsigned long cpu = first; cpu <= last; ++cpu) {
            if (mask.size() <= cpu / 8)
                mask.resize(cpu / 8 + 1, 0);
            mask[cpu / 8] |= static_cast<uint8_t>(1u << (cpu % 8));
        }
    }
    return mask;
}

namespace {

// The name /proc/devices gives a major number ("pts" for char 136), or "".
std::string major_name(char type, int64_t major) {
    std::ifstream in("/proc/devices");
    bool in_section = false;
    for (std::string line; std::getline(in, line);) {
        if (line == "Character devices:" || line == "Block devices:") {
            in_section = (line[0] == 'C') == (type == 'c');
            continue;
        }
        std::istringstream fields(line);
        int64_t number = -1;
        std::string name;
        if (in_section && fields >> number >> name && number == major)
            return name;
    }
    return "";
}

// systemd's DeviceAllow is an allow list: "/dev/char/M:m" for one device, "char-<name>" for a
// major, "char-*" for a class. Rule lists it cannot express (a deny after the leading
// deny-all, an unnamed major) get no properties: droplet's own eBPF program enforces them.
std::optional<std::vector<std::pair<std::string, std::string>>> device_allow(const std::vector<DeviceRule>& rules) {
    std::vector<std::pair<std::string, std::string>> allow;
    for (size_t i = 0; i < rules.size(); ++i) {
        const DeviceRule& rule = rules[i];
        if (!rule.allow) {
            if (i == 0 && rule.type == 'a' && rule.major < 0 && rule.minor < 0)
                continue;
            return std::nullopt;
        }
        const char* kind = rule.type == 'c' ? "char" : "block";
        if (rule.type == 'a') {
            allow.emplace_back("char-*", rule.access);
            allow.emplace_back("block-*", rule.access);
        } else if (rule.major < 0) {
            allow.emplace_back(std::string(kind) + "-*", rule.access);
        } else if (rule.minor >= 0) {
            allow.emplace_back("/dev/" + std::string(kind) + "/" + device_number(rule.major, rule.minor), rule.access);
        } else {
            std::string name = major_name(rule.type, rule.major);
            if (name.empty())
                return std::nullopt;
            allow.emplace_back(std::string(kind) + "-" + name, rule.access);
        }
    }
    return allow;
}

std::vector<std::pair<std::string, uint64_t>> io_limits(const std::vector<BlockDeviceRate>& rates) {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const BlockDeviceRate& r : rates)
        out.emplace_back("/dev/block/" + device_number(r.major, r.minor), r.rate);
    return out;
}

uint64_t parse_bytes(const std::string& text, const std::string& field) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end || errno || text[0] == '-')
        bad(field, "\"" + text + "\" is not a number of bytes or \"max\"");
    return v;
}

uint64_t unit_limit(int64_t v) { return v < 0 ? unit_infinity : static_cast<uint64_t>(v); }

} // namespace

std::vector<UnitProperty> resource_properties(const CgroupResources& r, std::vector<CgroupFileWrite>* leftover) {
    std::vector<UnitProperty> p;
    if (r.memory_limit)
        p.push_back({"MemoryMax", unit_limit(*r.memory_limit)});
    if (r.memory_reservation)
        p.push_back({"MemoryLow", unit_limit(*r.memory_reservation)});
    if (auto swap = swap_only(r))
        p.push_back({"MemorySwapMax", *swap == "max" ? unit_infinity : std::stoull(*swap)});
    if (r.cpu_shares && *r.cpu_shares)
        p.push_back({"CPUWeight", cpu_shares_to_weight(*r.cpu_shares)});
    if (r.cpu_period)
        p.push_back({"CPUQuotaPeriodUSec", *r.cpu_period});
    if (r.cpu_quota || r.cpu_period) {
        uint64_t per_sec = unit_infinity;
        if (r.cpu_quota && *r.cpu_quota > 0) {
            uint64_t period = r.cpu_period.value_or(100000);
            per_sec = static_cast<uint64_t>(*r.cpu_quota) * 1000000 / period;
            // systemd keeps CPUQuota in 1% steps (10 ms per second): round up so the
            // container never gets less than it asked for.
            if (per_sec % 10000)
                per_sec = (per_sec / 10000 + 1) * 10000;
        }
        p.push_back({"CPUQuotaPerSecUSec", per_sec});
    }
    if (!r.cpus.empty())
        p.push_back({"AllowedCPUs", cpu_list_to_mask(r.cpus, "linux.resources.cpu.cpus")});
    if (!r.mems.empty())
        p.push_back({"AllowedMemoryNodes", cpu_list_to_mask(r.mems, "linux.resources.cpu.mems")});
    if (r.pids_limit)
        p.push_back({"TasksMax", *r.pids_limit > 0 ? static_cast<uint64_t>(*r.pids_limit) : unit_infinity});
    if (r.blkio_weight)
        p.push_back({"IOWeight", blkio_weight_to_io_weight(*r.blkio_weight)});
    std::vector<std::pair<std::string, uint64_t>> device_weights;
    for (const BlockDeviceWeight& w : r.blkio_weight_devices)
        if (w.weight)
            device_weights.emplace_back("/dev/block/" + device_number(w.major, w.minor),
                                        blkio_weight_to_io_weight(*w.weight));
    if (!device_weights.empty())
        p.push_back({"IODeviceWeight", device_weights});
    if (!r.read_bps.empty())
        p.push_back({"IOReadBandwidthMax", io_limits(r.read_bps)});
    if (!r.write_bps.empty())
        p.push_back({"IOWriteBandwidthMax", io_limits(r.write_bps)});
    if (!r.read_iops.empty())
        p.push_back({"IOReadIOPSMax", io_limits(r.read_iops)});
    if (!r.write_iops.empty())
        p.push_back({"IOWriteIOPSMax", io_limits(r.write_iops)});
    if (!r.devices.empty()) {
        if (auto allow = device_allow(r.devices)) {
            p.push_back({"DevicePolicy", std::string("strict")});
            p.push_back({"DeviceAllow", *allow});
        }
    }
    for (const auto& [key, value] : r.unified) {
        if (key == "memory.high")
            p.push_back({"MemoryHigh", value == "max" ? unit_infinity : parse_bytes(value, "unified.memory.high")});
        else if (leftover)
            leftover->push_back({key.substr(0, key.find('.')) == "cgroup" ? "" : key.substr(0, key.find('.')), key,
                                 value});
    }
    if (leftover) {
        for (const HugepageLimit& h : r.hugepages)
            leftover->push_back({"hugetlb", "hugetlb." + h.page_size + ".max", std::to_string(h.limit)});
        if (r.cpu_idle)
            leftover->push_back({"cpu", "cpu.idle", std::to_string(*r.cpu_idle)});
    }
    return p;
}

} // namespace droplet
