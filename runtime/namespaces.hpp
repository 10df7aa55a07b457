// Linux namespaces: which to create, which to join by path, id maps, time offsets, hostname, loopback.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.hpp"
#include "spec.hpp"

namespace droplet {

struct NamespaceJoin {
    int flag = 0; // CLONE_NEW*
    std::string type;
    std::string path;
    raind::UniqueFd fd;
};

struct NamespacePlan {
    std::vector<NamespaceJoin> join; // user first, mount last
    int unshare_flags = 0;           // namespaces to create (CLONE_NEWUSER included)
};

int namespace_flag(const std::string& type);
const char* proc_ns_name(const std::string& type); // "net" for "network", "mnt" for "mount"

// Opens every namespace path now, in droplet's own mount namespace, and checks its type, so a
// wrong or missing path fails before anything exists.
NamespacePlan plan_namespaces(const Spec& spec);

// Whether the plan joins the mount namespace droplet itself runs in (compared by inode, so any
// path to it counts).
bool joins_own_mount_namespace(const NamespacePlan& plan);

// In the forked child: joins the planned namespaces. Throws naming the path.
void join_namespaces(NamespacePlan& plan);

// Run by droplet for the intermediate child's pid: writes uid_map and gid_map.
void write_id_mappings(pid_t pid, const Spec& spec);

// In the child, right after unshare(CLONE_NEWTIME), before any process enters it.
void write_time_offsets(const Spec& spec);

// In a new network namespace, lo is down; containers expect 127.0.0.1 to work.
void bring_up_loopback();

void set_hostname(const Spec& spec);

// Host id for a container id through the mappings (the id itself without a user namespace).
uint32_t map_to_host(const std::vector<IdMapping>& mappings, uint32_t id);

} // namespace droplet
