// Device access on cgroup v2: there is no devices.allow file, so every v2 runtime compiles the
// spec's device rules into a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "cgroup_drivers.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace droplet {
namespace {

long bpf(int command, bpf_attr& attr) { return ::syscall(SYS_bpf, command, &attr, sizeof attr); }

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

// Registers: r1 is the context (struct bpf_cgroup_dev_ctx); r2 = device type, r3 = requested
// access, r4 = major, r5 = minor.
std::vector<bpf_insn> compile(const std::vector<DeviceRule>& rules) {
    std::vector<bpf_insn> prog;
    prog.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0));
    prog.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff));
    prog.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0));
    prog.push_back(insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16));
    prog.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0));
    prog.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0));
    // The spec's list works like the v1 devices.allow/deny files: a later rule overrides an
    // earlier one, so the program tries the rules last to first and the first match decides.
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        const DeviceRule& r = *it;
        std::vector<bpf_insn> tests;
        if (r.type != 'a')
            tests.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0,
                                 r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
        int32_t access = 0;
        for (char c : r.access)
            access |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
        bool all_access = access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
        if (!all_access) {
            // Matches only if the request asks for nothing outside the rule's access.
            tests.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 3, 0, 0));
            tests.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, ~access));
            tests.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0));
        }
        if (r.major >= 0)
            tests.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(r.major)));
        if (r.minor >= 0)
            tests.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(r.minor)));
        // Each failed test jumps past the rest of this block (its verdict: two instructions).
        for (size_t i = 0; i < tests.size(); ++i) {
            if (BPF_CLASS(tests[i].code) == BPF_JMP)
                tests[i].off = static_cast<int16_t>(tests.size() - i - 1 + 2);
            prog.push_back(tests[i]);
        }
        prog.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r.allow ? 1 : 0));
        prog.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        // A rule matching everything decides alone: the verifier rejects unreachable code.
        if (tests.empty())
            return prog;
    }
    prog.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
    prog.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return prog;
}

std::vector<uint32_t> attached_programs(int cgroup_fd) {
    std::vector<uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) < 0)
        return {};
    ids.resize(attr.query.prog_cnt);
    return ids;
}

} // namespace

void apply_device_rules(const std::string& directory, const std::vector<DeviceRule>& rules) {
    if (rules.empty())
        return;
    raind::UniqueFd cgroup(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup)
        raind::throw_errno("open cgroup " + directory);
    std::vector<bpf_insn> prog = compile(rules);
    static const char license[] = "Apache-2.0";
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<uint64_t>(prog.data());
    load.insn_cnt = static_cast<uint32_t>(prog.size());
    load.license = reinterpret_cast<uint64_t>(license);
    raind::UniqueFd program(static_cast<int>(bpf(BPF_PROG_LOAD, load)));
    if (!program) {
        // Load again with the verifier's log, only to explain the failure.
        int err = errno;
        std::vector<char> log(1 << 16);
        load.log_buf = reinterpret_cast<uint64_t>(log.data());
        load.log_size = static_cast<uint32_t>(log.size());
        load.log_level = 1;
        raind::UniqueFd(static_cast<int>(bpf(BPF_PROG_LOAD, load)));
        throw raind::SystemError("load the eBPF device program for " + directory +
                                     (log[0] ? std::string(" (verifier: ") + log.data() + ")" : ""),
                                 err);
    }
    std::vector<uint32_t> old = attached_programs(cgroup.get());
    bpf_attr attach{};
    attach.target_fd = static_cast<uint32_t>(cgroup.get());
    attach.attach_bpf_fd = static_cast<uint32_t>(program.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attach) < 0)
        raind::throw_errno("attach the eBPF device program to " + directory);
    // The new program is in place before the old ones go, so no device opens in between.
    for (uint32_t id : old) {
        bpf_attr get{};
        get.prog_id = id;
        raind::UniqueFd previous(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
        if (!previous)
            continue;
        bpf_attr detach{};
        detach.target_fd = static_cast<uint32_t>(cgroup.get());
        detach.attach_bpf_fd = static_cast<uint32_t>(previous.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        bpf(BPF_PROG_DETACH, detach);
    }
}

} // namespace droplet
