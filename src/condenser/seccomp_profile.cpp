#include "seccomp_profile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "container_spec.hpp"
#include "default_seccomp.hpp"
#include "fd.hpp"

namespace condenser {
namespace {

using nlohmann::json;

// A profile is a few kilobytes; this only keeps a wrong path (a log, an image) off the loop.
constexpr off_t max_profile_bytes = 1 << 20;

const std::set<std::string> actions = {
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};
const std::set<std::string> operators = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

struct KernelVersion {
    unsigned major = 0, minor = 0;
    bool operator<(const KernelVersion& other) const {
        return major != other.major ? major < other.major : minor < other.minor;
    }
};

bool parse_kernel_version(const std::string& text, KernelVersion& version) {
    unsigned major = 0, minor = 0;
    int used = 0;
    if (std::sscanf(text.c_str(), "%u.%u%n", &major, &minor, &used) != 2)
        return false;
    version = {major, minor};
    return true;
}

KernelVersion running_kernel() {
    utsname name{};
    KernelVersion version;
    if (::uname(&name) == 0)
        parse_kernel_version(name.release, version);
    return version;
}

std::string capability_name(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    return name.rfind("CAP_", 0) == 0 ? name : "CAP_" + name;
}

// One conversion: the profile's source for errors, and what its conditions are checked against.
class Converter {
public:
    Converter(const std::string& source, const std::vector<std::string>& caps) : source_(source) {
        for (const auto& cap : caps)
            caps_.insert(capability_name(cap));
    }

    json convert(const json& profile) {
        object(profile, "the profile", {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls",
                                        "flags", "listenerPath", "listenerMetadata"});
        json result = json::object();
        action(profile, "defaultAction", "defaultErrnoRet", "", result);
        if (has(profile, "architectures") && has(profile, "archMap"))
            fail("archMap", "give either architectures or archMap, not both");
        if (has(profile, "architectures"))
            result["architectures"] = architectures(profile["architectures"], "architectures");
        if (has(profile, "archMap"))
            if (auto mapped = arch_map(profile["archMap"]); !mapped.empty())
                result["architectures"] = mapped;
        json syscalls = json::array();
        if (has(profile, "syscalls")) {
            const json& list = array(profile["syscalls"], "syscalls");
            for (size_t i = 0; i < list.size(); ++i)
                if (auto rule = syscall(list[i], "syscalls[" + std::to_string(i) + "]"); !rule.is_null())
                    syscalls.push_back(rule);
        }
        result["syscalls"] = syscalls;
        if (has(profile, "flags")) {
            const json& flags = array(profile["flags"], "flags");
            for (size_t i = 0; i < flags.size(); ++i)
                string(flags[i], "flags[" + std::to_string(i) + "]");
            result["flags"] = flags;
        }
        for (const char* key : {"listenerPath", "listenerMetadata"})
            if (has(profile, key))
                result[key] = string(profile[key], key);
        return result;
    }

private:
    [[noreturn]] void fail(const std::string& where, const std::string& why) const {
        throw InvalidContainerArgument("seccomp profile " + source_ + ": " + where + ": " + why);
    }

    static bool has(const json& object, const char* key) {
        auto it = object.find(key);
        return it != object.end() && !it->is_null();
    }

    void object(const json& value, const std::string& where, std::initializer_list<const char*> known) const {
        if (!value.is_object())
            fail(where, "must be an object, not " + std::string(value.type_name()));
        for (const auto& [key, ignored] : value.items())
            if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
                fail(where, "unknown field \"" + key + "\"");
    }
    const json& array(const json& value, const std::string& where) const {
        if (!value.is_array())
            fail(where, "must be an array, not " + std::string(value.type_name()));
        return value;
    }
    std::string string(const json& value, const std::string& where) const {
        if (!value.is_string())
            fail(where, "must be a string, not " + std::string(value.type_name()));
        return value.get<std::string>();
    }
    uint64_t number(const json& value, const std::string& where) const {
        if (!value.is_number_unsigned())
            fail(where, "must be a non-negative integer, not " + value.dump());
        return value.get<uint64_t>();
    }
    std::vector<std::string> strings(const json& value, const std::string& where) const {
        std::vector<std::string> result;
        const json& list = array(value, where);
        for (size_t i = 0; i < list.size(); ++i)
            result.push_back(string(list[i], where + "[" + std::to_string(i) + "]"));
        return result;
    }

    static std::string at(const std::string& prefix, const char* key) { return prefix.empty() ? key : prefix + "." + key; }

    // "action"/"errnoRet" (or the default pair) of `from`, copied into `into`.
    void action(const json& from, const char* action_key, const char* errno_key, const std::string& where, json& into) {
        if (!has(from, action_key))
            fail(at(where, action_key), "is required");
        std::string name = string(from[action_key], at(where, action_key));
        if (actions.count(name) == 0)
            fail(at(where, action_key), "unknown action \"" + name + "\"");
        into[action_key] = name;
        if (has(from, errno_key)) {
            uint64_t value = number(from[errno_key], at(where, errno_key));
            if (name != "SCMP_ACT_ERRNO" && name != "SCMP_ACT_TRACE")
                fail(at(where, errno_key), name + " does not return an errno");
            if (value > 0xffff)
                fail(at(where, errno_key), std::to_string(value) + " is out of range (0-65535)");
            into[errno_key] = value;
        }
    }

    json architectures(const json& value, const std::string& where) const {
        auto names = strings(value, where);
        for (size_t i = 0; i < names.size(); ++i)
            if (names[i].rfind("SCMP_ARCH_", 0) != 0)
                fail(where + "[" + std::to_string(i) + "]", "\"" + names[i] + "\" is not an SCMP_ARCH_ name");
        return names;
    }

    // Docker's archMap: the entry for this build's architecture gives it and its compat ones.
    json arch_map(const json& value) const {
        const json& map = array(value, "archMap");
        json result = json::array();
        for (size_t i = 0; i < map.size(); ++i) {
            std::string where = "archMap[" + std::to_string(i) + "]";
            object(map[i], where, {"architecture", "subArchitectures"});
            if (!has(map[i], "architecture"))
                fail(where + ".architecture", "is required");
            json arch = architectures(json::array({map[i]["architecture"]}), where + ".architecture");
            json subs = has(map[i], "subArchitectures")
                            ? architectures(map[i]["subArchitectures"], where + ".subArchitectures")
                            : json::array();
            if (arch[0] != build_architecture().native)
                continue;
            result = arch;
            for (const auto& sub : subs)
                result.push_back(sub);
        }
        return result;
    }

    // Docker's includes/excludes: whether the condition holds for this container.
    bool condition_holds(const json& value, const std::string& where, bool all_caps) const {
        object(value, where, {"caps", "arches", "minKernel"});
        bool holds = true;
        if (has(value, "arches")) {
            auto arches = strings(value["arches"], where + ".arches");
            holds = holds && std::find(arches.begin(), arches.end(), build_architecture().go_name) != arches.end();
        }
        if (has(value, "caps")) {
            auto caps = strings(value["caps"], where + ".caps");
            auto present = [&](const std::string& cap) { return caps_.count(capability_name(cap)) != 0; };
            // includes needs every capability; excludes drops the rule on any one of them.
            holds = holds && (all_caps ? std::all_of(caps.begin(), caps.end(), present)
                                       : std::any_of(caps.begin(), caps.end(), present));
        }
        if (has(value, "minKernel")) {
            KernelVersion wanted;
            std::string text = string(value["minKernel"], where + ".minKernel");
            if (!parse_kernel_version(text, wanted))
                fail(where + ".minKernel", "\"" + text + "\" is not a kernel version like 5.10");
            holds = holds && !(kernel_ < wanted);
        }
        return holds;
    }
    // excludes matches when any of its parts does (Docker's reading): arches, caps, minKernel.
    bool excluded(const json& value, const std::string& where) const {
        object(value, where, {"caps", "arches", "minKernel"});
        for (const char* part : {"arches", "caps", "minKernel"})
            if (has(value, part) && condition_holds(json{{part, value[part]}}, where, false))
                return true;
        return false;
    }

    // One entry of "syscalls", or null when its conditions leave it out for this container.
    json syscall(const json& entry, const std::string& where) {
        object(entry, where, {"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"});
        json rule = json::object();
        if (has(entry, "names") && has(entry, "name"))
            fail(where, "give either name or names, not both");
        std::vector<std::string> names;
        if (has(entry, "name"))
            names.push_back(string(entry["name"], where + ".name"));
        else if (has(entry, "names"))
            names = strings(entry["names"], where + ".names");
        if (names.empty())
            fail(where + ".names", "must list at least one syscall");
        rule["names"] = names;
        action(entry, "action", "errnoRet", where, rule);
        if (has(entry, "args")) {
            const json& args = array(entry["args"], where + ".args");
            json converted = json::array();
            for (size_t i = 0; i < args.size(); ++i)
                converted.push_back(argument(args[i], where + ".args[" + std::to_string(i) + "]"));
            rule["args"] = converted;
        }
        if (has(entry, "comment"))
            string(entry["comment"], where + ".comment");
        bool keep = true;
        if (has(entry, "excludes"))
            keep = !excluded(entry["excludes"], where + ".excludes") && keep;
        if (has(entry, "includes"))
            keep = condition_holds(entry["includes"], where + ".includes", true) && keep;
        return keep ? rule : json();
    }

    json argument(const json& arg, const std::string& where) const {
        object(arg, where, {"index", "value", "valueTwo", "op"});
        for (const char* key : {"index", "value", "op"})
            if (!has(arg, key))
                fail(where + "." + key, "is required");
        json result = json::object();
        uint64_t index = number(arg["index"], where + ".index");
        if (index > 5)
            fail(where + ".index", std::to_string(index) + " is out of range (a syscall has arguments 0-5)");
        result["index"] = index;
        result["value"] = number(arg["value"], where + ".value");
        if (has(arg, "valueTwo"))
            result["valueTwo"] = number(arg["valueTwo"], where + ".valueTwo");
        std::string op = string(arg["op"], where + ".op");
        if (operators.count(op) == 0)
            fail(where + ".op", "unknown operator \"" + op + "\"");
        result["op"] = op;
        return result;
    }

    std::string source_;
    std::set<std::string> caps_;
    KernelVersion kernel_ = running_kernel();
};

std::string read_profile_file(const std::string& path) {
    auto fail = [&](const std::string& why) {
        throw InvalidContainerArgument("seccomp profile " + path + ": " + why);
    };
    if (path.empty() || path[0] != '/')
        fail("is not an absolute path (the daemon reads it on its host; the raind CLI sends the file's content)");
    // O_NONBLOCK: a FIFO at the path must not stall the daemon's loop.
    raind::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd)
        fail(std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        fail(std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        fail("is not a regular file");
    if (st.st_size > max_profile_bytes)
        fail("is " + std::to_string(st.st_size) + " bytes, more than a profile's limit of 1 MiB");
    std::string text(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(std::string("cannot read: ") + std::strerror(errno));
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    text.resize(done);
    return text;
}

void choose(SeccompChoice& choice, SeccompChoice::Mode mode, std::string profile, std::string source) {
    if (choice.mode != SeccompChoice::Mode::default_profile)
        throw InvalidContainerArgument("seccomp is chosen twice (" +
                                       (choice.mode == SeccompChoice::Mode::unconfined ? "unconfined" : choice.source) +
                                       ", then " + (source.empty() ? "unconfined" : source) + ")");
    if (mode == SeccompChoice::Mode::custom)
        convert_seccomp_profile(profile, source, {}); // refuse a malformed profile before anything changes
    choice = {mode, std::move(profile), std::move(source)};
}

} // namespace

json convert_seccomp_profile(const std::string& text, const std::string& source, const std::vector<std::string>& caps) {
    json profile;
    try {
        profile = json::parse(text);
    } catch (const json::parse_error& e) {
        throw InvalidContainerArgument("seccomp profile " + source + ": not valid JSON: " + e.what());
    }
    return Converter(source, caps).convert(profile);
}

bool take_seccomp_security_opt(const std::string& option, SeccompChoice& choice) {
    // Docker also takes the older "seccomp:" spelling.
    if (option.rfind("seccomp=", 0) != 0 && option.rfind("seccomp:", 0) != 0)
        return false;
    std::string value = option.substr(std::strlen("seccomp="));
    if (value == "unconfined")
        choose(choice, SeccompChoice::Mode::unconfined, {}, {});
    else if (!value.empty() && value[0] == '{')
        choose(choice, SeccompChoice::Mode::custom, value, "given in security option seccomp={…}");
    else
        choose(choice, SeccompChoice::Mode::custom, read_profile_file(value), value);
    return true;
}

void take_seccomp_profile_text(const std::string& text, SeccompChoice& choice) {
    choose(choice, SeccompChoice::Mode::custom, text, "given in option seccomp_profile");
}

void apply_seccomp(json& spec, const SeccompChoice& choice) {
    json& linux_section = spec["linux"];
    if (choice.mode == SeccompChoice::Mode::unconfined) {
        linux_section.erase("seccomp");
        return;
    }
    // The bounding set, as Docker uses: what any process of the container can come to hold.
    std::vector<std::string> caps;
    const json::json_pointer bounding("/process/capabilities/bounding");
    if (spec.contains(bounding))
        caps = spec.at(bounding).get<std::vector<std::string>>();
    linux_section["seccomp"] = choice.mode == SeccompChoice::Mode::custom
                                   ? convert_seccomp_profile(choice.profile, choice.source, caps)
                                   : default_seccomp_profile(caps);
}

} // namespace condenser
