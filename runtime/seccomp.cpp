#include "seccomp.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cstring>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "fd_passing.hpp"
#include "libseccomp_api.hpp"
#include "log.hpp"
#include "seccomp_cache.hpp"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace droplet {
namespace {

using nlohmann::json;

struct ActionName {
    const char* name;
    uint32_t action; // with the errno/trace data still zero
    bool takes_errno;
};

constexpr ActionName actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

constexpr struct {
    const char* name;
    scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr struct {
    const char* name;
    unsigned flag;
} filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

// The spec's list (libseccomp 2.5 names); libseccomp resolves the lower-case tail.
constexpr const char* architectures[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",        "SCMP_ARCH_MIPS64",  "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64",    "SCMP_ARCH_RISCV64",
};

class FilterContext {
public:
    // Null when a cached program makes libseccomp unnecessary.
    explicit FilterContext(scmp_filter_ctx ctx) : ctx_(ctx) {}
    ~FilterContext() {
        if (ctx_)
            libseccomp().release(ctx_);
    }
    FilterContext(const FilterContext&) = delete;
    FilterContext& operator=(const FilterContext&) = delete;
    scmp_filter_ctx get() const { return ctx_; }

private:
    scmp_filter_ctx ctx_;
};

[[noreturn]] void fail(const std::string& where, const std::string& why) { throw raind::Error(where + ": " + why); }

const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

uint64_t unsigned_value(const json& v, const std::string& where) {
    if (!v.is_number_unsigned())
        fail(where, "must be a non-negative integer, not " + v.dump());
    return v.get<uint64_t>();
}

const std::string& string_value(const json& v, const std::string& where) {
    if (!v.is_string())
        fail(where, "must be a string, not " + v.dump());
    return v.get_ref<const std::string&>();
}

const json& array_value(const json& v, const std::string& where) {
    if (!v.is_array())
        fail(where, "must be an array, not " + v.dump());
    return v;
}

// "defaultAction"/"defaultErrnoRet" or "action"/"errnoRet" of `object`, as a libseccomp action.
uint32_t parse_action(const json& object, const char* action_key, const char* errno_key, const std::string& where) {
    const json* a = member(object, action_key);
    if (!a)
        fail(where + "." + action_key, "is required");
    const std::string& name = string_value(*a, where + "." + action_key);
    const ActionName* found = nullptr;
    for (const ActionName& entry : actions)
        if (name == entry.name)
            found = &entry;
    if (!found)
        fail(where + "." + action_key, "unknown action \"" + name + "\"");
    const json* e = member(object, errno_key);
    if (!found->takes_errno) {
        if (e)
            fail(where + "." + errno_key, name + " does not return an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)");
        return found->action;
    }
    uint64_t value = EPERM;
    if (e) {
        value = unsigned_value(*e, where + "." + errno_key);
        if (value > 0xffff) // SECCOMP_RET_DATA is 16 bits
            fail(where + "." + errno_key, std::to_string(value) + " is out of range (0-65535)");
    }
    return found->action | static_cast<uint32_t>(value);
}

scmp_arg_cmp parse_arg(const json& arg, const std::string& where) {
    if (!arg.is_object())
        fail(where, "must be an object, not " + arg.dump());
    const json* index = member(arg, "index");
    const json* value = member(arg, "value");
    const json* op = member(arg, "op");
    if (!index)
        fail(where + ".index", "is required");
    if (!value)
        fail(where + ".value", "is required");
    if (!op)
        fail(where + ".op", "is required");
    uint64_t i = unsigned_value(*index, where + ".index");
    if (i > 5)
        fail(where + ".index", std::to_string(i) + " is out of range (a syscall has arguments 0-5)");
    scmp_arg_cmp cmp{};
    cmp.arg = static_cast<unsigned>(i);
    cmp.datum_a = unsigned_value(*value, where + ".value");
    if (const json* two = member(arg, "valueTwo"))
        cmp.datum_b = unsigned_value(*two, where + ".valueTwo");
    const std::string& op_name = string_value(*op, where + ".op");
    auto found = std::find_if(std::begin(operators), std::end(operators),
                              [&](const auto& o) { return op_name == o.name; });
    if (found == std::end(operators))
        fail(where + ".op", "unknown operator \"" + op_name + "\"");
    cmp.op = found->op;
    return cmp;
}

// libseccomp refuses two comparisons on one argument in a rule. Like runc, comparisons on the
// same argument are alternatives (any may match); comparisons on different arguments must
// all match. So: one rule per choice of one comparison for each argument used.
std::vector<std::vector<scmp_arg_cmp>> rule_conditions(const std::vector<scmp_arg_cmp>& args) {
    std::vector<std::vector<scmp_arg_cmp>> by_index;
    for (const scmp_arg_cmp& a : args) {
        auto it = std::find_if(by_index.begin(), by_index.end(), [&](const auto& g) { return g[0].arg == a.arg; });
        if (it == by_index.end())
            by_index.push_back({a});
        else
            it->push_back(a);
    }
    std::vector<std::vector<scmp_arg_cmp>> rules{{}};
    for (const auto& group : by_index) {
        std::vector<std::vector<scmp_arg_cmp>> next;
        for (const auto& partial : rules)
            for (const scmp_arg_cmp& choice : group) {
                next.push_back(partial);
                next.back().push_back(choice);
            }
        rules = std::move(next);
    }
    return rules;
}

bool kernel_supports_flags(unsigned flags) {
    // With a null program the kernel checks the flags first, then fails to read the program.
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr) < 0 && errno == EFAULT;
}

unsigned parse_flags(const json& flags, bool notify) {
    unsigned result = 0;
    const std::string where = "linux.seccomp.flags";
    array_value(flags, where);
    for (size_t i = 0; i < flags.size(); ++i) {
        std::string at = where + "[" + std::to_string(i) + "]";
        const std::string& name = string_value(flags[i], at);
        auto found = std::find_if(std::begin(filter_flags), std::end(filter_flags),
                                  [&](const auto& f) { return name == f.name; });
        if (found == std::end(filter_flags))
            fail(at, "unknown flag \"" + name + "\"");
        unsigned probe = found->flag;
        if (found->flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
            if (!notify)
                fail(at, name + " only applies to a filter with an SCMP_ACT_NOTIFY rule");
            probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        if (!kernel_supports_flags(probe))
            fail(at, name + " is not supported by this kernel");
        result |= found->flag;
    }
    return result;
}

// A null ctx only checks the names (the program comes from the cache).
void add_architectures(scmp_filter_ctx ctx, const json& archs) {
    const std::string where = "linux.seccomp.architectures";
    array_value(archs, where);
    if (archs.empty())
        fail(where, "must list at least one architecture (leave it out for the native one)");
    for (size_t i = 0; i < archs.size(); ++i) {
        std::string at = where + "[" + std::to_string(i) + "]";
        const std::string& name = string_value(archs[i], at);
        uint32_t arch = 0;
        if (name.rfind("SCMP_ARCH_", 0) == 0) {
            std::string tail = name.substr(std::strlen("SCMP_ARCH_"));
            std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
            arch = libseccomp().arch_resolve_name(tail.c_str());
        }
        if (arch == 0)
            fail(at, "unknown architecture \"" + name + "\"");
        if (!ctx)
            continue;
        int rc = libseccomp().arch_add(ctx, arch);
        if (rc < 0 && rc != -EEXIST)
            fail(at, "add " + name + ": " + std::strerror(-rc));
    }
}

struct RulesResult {
    bool notify = false;
    std::vector<std::string> skipped;
};

// A null ctx checks and resolves everything but adds nothing.
RulesResult add_rules(scmp_filter_ctx ctx, uint32_t default_action, const json& syscalls) {
    RulesResult result;
    const std::string where = "linux.seccomp.syscalls";
    array_value(syscalls, where);
    for (size_t i = 0; i < syscalls.size(); ++i) {
        std::string at = where + "[" + std::to_string(i) + "]";
        const json& entry = syscalls[i];
        if (!entry.is_object())
            fail(at, "must be an object, not " + entry.dump());
        const json* names = member(entry, "names");
        if (!names)
            fail(at + ".names", "is required");
        array_value(*names, at + ".names");
        if (names->empty())
            fail(at + ".names", "must list at least one syscall");
        uint32_t action = parse_action(entry, "action", "errnoRet", at);
        std::vector<scmp_arg_cmp> args;
        if (const json* a = member(entry, "args")) {
            array_value(*a, at + ".args");
            for (size_t j = 0; j < a->size(); ++j)
                args.push_back(parse_arg((*a)[j], at + ".args[" + std::to_string(j) + "]"));
        }
        std::vector<std::vector<scmp_arg_cmp>> rules = rule_conditions(args);
        for (size_t n = 0; n < names->size(); ++n) {
            const std::string& name = string_value((*names)[n], at + ".names[" + std::to_string(n) + "]");
            int nr = libseccomp().syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                if (std::find(result.skipped.begin(), result.skipped.end(), name) == result.skipped.end())
                    result.skipped.push_back(name);
                continue;
            }
            // libseccomp refuses a rule that repeats the default action; it would change nothing.
            if (action == default_action)
                continue;
            for (const auto& conditions : rules) {
                if (!ctx)
                    break;
                int rc = libseccomp().rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.size()),
                                                conditions.data());
                if (rc < 0)
                    fail(at, "add the rule for \"" + name + "\": " + std::strerror(-rc));
            }
            if (action == SCMP_ACT_NOTIFY) {
                // The runtime sends the listener fd with these after the filter is loaded.
                if (name == "sendmsg" || name == "sendto")
                    fail(at, "SCMP_ACT_NOTIFY on \"" + name +
                                 "\" would block droplet sending the listener fd to the seccomp agent");
                result.notify = true;
            }
        }
    }
    return result;
}

std::vector<sock_filter> export_program(scmp_filter_ctx ctx) {
    raind::UniqueFd memfd(::memfd_create("droplet-seccomp", MFD_CLOEXEC));
    if (!memfd)
        raind::throw_errno("linux.seccomp: memfd_create for the compiled filter");
    int rc = libseccomp().export_bpf(ctx, memfd.get());
    if (rc < 0)
        fail("linux.seccomp", std::string("export the compiled filter: ") + std::strerror(-rc));
    off_t size = ::lseek(memfd.get(), 0, SEEK_END);
    if (size <= 0 || size % sizeof(sock_filter) != 0)
        fail("linux.seccomp", "libseccomp exported a filter of " + std::to_string(size) + " bytes");
    std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(memfd.get(), program.data(), static_cast<size_t>(size), 0) != size)
        raind::throw_errno("linux.seccomp: read back the compiled filter");
    return program;
}

raind::UniqueFd connect_listener(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        fail("linux.seccomp.listenerPath", "\"" + path + "\" is too long for a unix socket address");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    raind::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        raind::throw_errno("linux.seccomp.listenerPath: socket");
    int rc;
    while ((rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr)) < 0 && errno == EINTR) {
    }
    if (rc < 0)
        raind::throw_errno("linux.seccomp.listenerPath: connect to " + path);
    return fd;
}

// The pid of the calling process as droplet sees it: /proc/self in droplet's procfs.
pid_t pid_seen_by_droplet(int host_proc) {
    char buf[32];
    ssize_t n = ::readlinkat(host_proc, "self", buf, sizeof buf - 1);
    if (n <= 0)
        raind::throw_errno("linux.seccomp: read the process's pid from droplet's /proc/self");
    buf[n] = '\0';
    return static_cast<pid_t>(std::atol(buf));
}

void send_listener(int connection, int listener_fd, const std::string& payload) {
    ssize_t sent = raind::send_with_fds(connection, payload.data(), payload.size(), {&listener_fd, 1});
    if (sent < 0)
        raind::throw_errno("linux.seccomp.listenerPath: send the seccomp fd");
    // The fd went with the first bytes; the spec allows the rest in later writes.
    size_t done = static_cast<size_t>(sent);
    while (done < payload.size()) {
        ssize_t n = ::send(connection, payload.data() + done, payload.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            raind::throw_errno("linux.seccomp.listenerPath: send the container process state");
        done += static_cast<size_t>(n);
    }
}

void load(SeccompSetup& s) {
    const CompiledSeccomp& f = s.filter;
    unsigned flags = f.flags;
    std::string payload;
    if (f.notify) {
        // Built before the filter is in place: it may forbid what allocating needs.
        pid_t pid = pid_seen_by_droplet(s.host_proc.get());
        json state = json::parse(s.state_json);
        state["pid"] = pid;
        state["state"]["pid"] = pid;
        payload = state.dump();
        // TSYNC cannot be combined with NEW_LISTENER; the process has one thread anyway.
        flags = (flags & ~SECCOMP_FILTER_FLAG_TSYNC) | SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    sock_fprog prog{static_cast<unsigned short>(f.program.size()), const_cast<sock_filter*>(f.program.data())};
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0)
        raind::throw_errno("linux.seccomp: load the filter");
    if (!f.notify)
        return;
    raind::UniqueFd listener(static_cast<int>(rc));
    send_listener(s.listener.get(), listener.get(), payload);
    s.listener.reset();
    s.host_proc.reset();
}

} // namespace

CompiledSeccomp compile_seccomp(const std::string& seccomp_json, const std::string& cache_dir) {
    CompiledSeccomp compiled;
    if (seccomp_json.empty())
        return compiled;
    json spec = json::parse(seccomp_json);
    const std::string where = "linux.seccomp";
    if (!spec.is_object())
        fail(where, "must be an object");
    uint32_t default_action = parse_action(spec, "defaultAction", "defaultErrnoRet", where);
    // Every syscall would wait for an agent that cannot have the listener fd yet.
    if (default_action == SCMP_ACT_NOTIFY)
        fail(where + ".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
    // A cached program skips libseccomp entirely; the profile is still checked in full.
    std::optional<std::vector<sock_filter>> cached = load_cached_program(cache_dir, seccomp_json);
    FilterContext ctx(cached ? nullptr : libseccomp().init(default_action));
    if (!cached && !ctx.get())
        fail(where + ".defaultAction", "libseccomp refuses " + spec["defaultAction"].get<std::string>() +
                                           " as the default action");
    // A binary tree of syscall numbers: long allow-lists cost a few comparisons, not hundreds.
    if (ctx.get())
        libseccomp().attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (const json* archs = member(spec, "architectures"))
        add_architectures(ctx.get(), *archs);
    RulesResult rules;
    if (const json* syscalls = member(spec, "syscalls"))
        rules = add_rules(ctx.get(), default_action, *syscalls);
    compiled.notify = rules.notify;
    compiled.skipped_syscalls = std::move(rules.skipped);
    if (const json* flags = member(spec, "flags"))
        compiled.flags = parse_flags(*flags, compiled.notify);
    if (const json* path = member(spec, "listenerPath"))
        compiled.listener_path = string_value(*path, where + ".listenerPath");
    if (const json* metadata = member(spec, "listenerMetadata")) {
        compiled.listener_metadata = string_value(*metadata, where + ".listenerMetadata");
        if (compiled.listener_path.empty())
            fail(where + ".listenerMetadata", "is only allowed with listenerPath");
    }
    if (compiled.notify && compiled.listener_path.empty())
        fail(where, "SCMP_ACT_NOTIFY is used but listenerPath names no seccomp agent to send the listener fd to");
    if (!compiled.skipped_syscalls.empty()) {
        std::string names;
        for (const std::string& n : compiled.skipped_syscalls)
            names += (names.empty() ? "" : ", ") + n;
        raind::log::warning(where + ": syscalls unknown to libseccomp, skipping their rules: " + names);
    }
    if (cached) {
        compiled.program = std::move(*cached);
    } else {
        compiled.program = export_program(ctx.get());
        store_cached_program(cache_dir, seccomp_json, compiled.program);
    }
    if (compiled.program.size() > BPF_MAXINSNS)
        fail(where, "the compiled filter has " + std::to_string(compiled.program.size()) +
                        " instructions; the kernel takes at most " + std::to_string(BPF_MAXINSNS));
    return compiled;
}

void SeccompSetup::close_parent_fds() noexcept {
    listener.reset();
    host_proc.reset();
}

std::string seccomp_cache_dir(const std::string& state_root) { return state_root + "/.cache~seccomp"; }

SeccompSetup prepare_seccomp(const Spec& spec, const ContainerState& state, Status status,
                             const std::string& cache_dir) {
    SeccompSetup setup;
    if (spec.linux.seccomp_json.empty())
        return setup;
    setup.filter = compile_seccomp(spec.linux.seccomp_json, cache_dir);
    if (!setup.filter.notify)
        return setup;
    json process_state = {
        {"ociVersion", "1.2.0"},
        {"fds", {"seccompFd"}},
        {"pid", 0},
        {"state", state_document(state, status)},
    };
    if (!setup.filter.listener_metadata.empty())
        process_state["metadata"] = setup.filter.listener_metadata;
    setup.state_json = process_state.dump();
    setup.host_proc.reset(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!setup.host_proc)
        raind::throw_errno("linux.seccomp: open /proc");
    setup.listener = connect_listener(setup.filter.listener_path);
    return setup;
}

void apply_seccomp_before_user_switch(SeccompSetup* setup, const Process& process) {
    if (setup && setup->active() && !process.no_new_privileges)
        load(*setup);
}

void apply_seccomp_before_exec(SeccompSetup* setup, const Process& process) {
    if (setup && setup->active() && process.no_new_privileges)
        load(*setup);
}

json seccomp_features() {
    json names = json::array(), ops = json::array(), archs = json::array(), known = json::array(),
         supported = json::array();
    for (const ActionName& a : actions)
        names.push_back(a.name);
    for (const auto& o : operators)
        ops.push_back(o.name);
    for (const char* a : architectures)
        archs.push_back(a);
    for (const auto& f : filter_flags) {
        known.push_back(f.name);
        unsigned probe = f.flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? f.flag | SECCOMP_FILTER_FLAG_NEW_LISTENER
                                                                        : f.flag;
        if (kernel_supports_flags(probe))
            supported.push_back(f.name);
    }
    return {{"enabled", true},   {"actions", names},     {"operators", ops},
            {"archs", archs},    {"knownFlags", known},  {"supportedFlags", supported}};
}

} // namespace droplet
