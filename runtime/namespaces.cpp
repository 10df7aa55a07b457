#include "namespaces.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "file_util.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace droplet {

int namespace_flag(const std::string& type) {
    if (type == "pid") return CLONE_NEWPID;
    if (type == "network") return CLONE_NEWNET;
    if (type == "mount") return CLONE_NEWNS;
    if (type == "ipc") return CLONE_NEWIPC;
    if (type == "uts") return CLONE_NEWUTS;
    if (type == "user") return CLONE_NEWUSER;
    if (type == "cgroup") return CLONE_NEWCGROUP;
    if (type == "time") return CLONE_NEWTIME;
    throw raind::Error("unknown namespace type \"" + type + "\"");
}

const char* proc_ns_name(const std::string& type) {
    if (type == "network") return "net";
    if (type == "mount") return "mnt";
    if (type == "pid") return "pid";
    if (type == "ipc") return "ipc";
    if (type == "uts") return "uts";
    if (type == "user") return "user";
    if (type == "cgroup") return "cgroup";
    if (type == "time") return "time";
    return "";
}

namespace {

// The order joins happen in: the user namespace grants the rights for the others, and the
// mount namespace goes last because it changes what paths mean.
int join_rank(const std::string& type) {
    static const char* order[] = {"user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount"};
    for (int i = 0; i < 8; ++i)
        if (type == order[i])
            return i;
    return 8;
}

} // namespace

NamespacePlan plan_namespaces(const Spec& spec) {
    NamespacePlan plan;
    for (const Namespace& ns : spec.linux.namespaces) {
        int flag = namespace_flag(ns.type);
        if (ns.path.empty()) {
            plan.unshare_flags |= flag;
            continue;
        }
        raind::UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            raind::throw_errno("linux.namespaces: " + ns.type + " namespace path " + ns.path);
        int actual = ::ioctl(fd.get(), NS_GET_NSTYPE);
        if (actual < 0)
            throw raind::Error("linux.namespaces: " + ns.path + " is not a namespace file");
        if (actual != flag)
            throw raind::Error("linux.namespaces: " + ns.path + " is not a " + ns.type + " namespace");
        plan.join.push_back({flag, ns.type, ns.path, std::move(fd)});
    }
    std::stable_sort(plan.join.begin(), plan.join.end(),
                     [](const NamespaceJoin& a, const NamespaceJoin& b) { return join_rank(a.type) < join_rank(b.type); });
    return plan;
}

bool joins_own_mount_namespace(const NamespacePlan& plan) {
    for (const NamespaceJoin& j : plan.join) {
        if (j.flag != CLONE_NEWNS)
            continue;
        struct stat joined{}, own{};
        if (::fstat(j.fd.get(), &joined) < 0)
            raind::throw_errno("stat mount namespace " + j.path);
        if (::stat("/proc/self/ns/mnt", &own) < 0)
            raind::throw_errno("stat /proc/self/ns/mnt");
        return joined.st_dev == own.st_dev && joined.st_ino == own.st_ino;
    }
    return false;
}

void join_namespaces(NamespacePlan& plan) {
    for (NamespaceJoin& j : plan.join) {
        if (::setns(j.fd.get(), j.flag) < 0)
            raind::throw_errno("join " + j.type + " namespace " + j.path);
        j.fd.reset();
    }
}

namespace {

std::string mapping_text(const std::vector<IdMapping>& mappings) {
    std::string text;
    for (const IdMapping& m : mappings)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return text;
}

void write_proc(const std::string& path, const std::string& text) {
    raind::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        raind::throw_errno("open " + path);
    // These files take the whole map in one write.
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        raind::throw_errno("write \"" + text.substr(0, text.find('\n')) + "…\" to " + path);
}

} // namespace

void write_id_mappings(pid_t pid, const Spec& spec) {
    std::string base = "/proc/" + std::to_string(pid) + "/";
    try {
        write_proc(base + "uid_map", mapping_text(spec.linux.uid_mappings));
        write_proc(base + "gid_map", mapping_text(spec.linux.gid_mappings));
    } catch (const raind::Error& e) {
        throw raind::Error(std::string("linux.uidMappings/gidMappings: ") + e.what());
    }
}

void write_time_offsets(const Spec& spec) {
    std::string text;
    for (const auto& [clock, off] : spec.linux.time_offsets)
        text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
    if (text.empty())
        return;
    try {
        write_proc("/proc/self/timens_offsets", text);
    } catch (const raind::Error& e) {
        throw raind::Error(std::string("linux.timeOffsets: ") + e.what());
    }
}

void bring_up_loopback() {
    raind::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock)
        raind::throw_errno("socket to configure lo");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0)
        raind::throw_errno("get flags of lo");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0)
        raind::throw_errno("bring up lo");
}

void set_hostname(const Spec& spec) {
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) < 0)
        raind::throw_errno("hostname: sethostname \"" + spec.hostname + "\"");
    if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) < 0)
        raind::throw_errno("domainname: setdomainname \"" + spec.domainname + "\"");
}

uint32_t map_to_host(const std::vector<IdMapping>& mappings, uint32_t id) {
    if (mappings.empty())
        return id;
    for (const IdMapping& m : mappings)
        if (id >= m.container_id && id - m.container_id < m.size)
            return m.host_id + (id - m.container_id);
    return 65534; // the overflow id, what the kernel shows for an unmapped one
}

} // namespace droplet
