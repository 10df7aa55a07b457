// The lifecycle's view of the container's cgroup: what create, kill, delete, ps and exec call,
// so the lifecycle files only hold one line per use.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "spec.hpp"
#include "state.hpp"

namespace droplet {

// What create hands make_cgroup_manager().
CgroupConfig cgroup_config(const Spec& spec, const std::string& id, bool systemd);

CgroupRecord cgroup_record(const ContainerState& state);
void set_cgroup_record(ContainerState& state, const CgroupRecord& record);
std::unique_ptr<CgroupManager> container_cgroup(const ContainerState& state);

// Every process of the container: from cgroup.procs when it has a cgroup, else found by namespace.
std::vector<pid_t> container_processes(const ContainerState& state);

// `kill --all`: cgroup.kill for SIGKILL, else every process but the init (which the caller
// signals through its pidfd) while the cgroup is frozen.
void signal_container_processes(const ContainerState& state, int signal);

// The status to show: runc's "paused" for a running container whose cgroup is frozen.
std::string container_status_name(const ContainerState& state, Status status);

// SIGKILL to every process for delete; problems are logged at debug level, never thrown.
void kill_container_processes(const ContainerState& state) noexcept;

// Removes the container's cgroup (or stops its scope) once its processes are gone; never throws.
void destroy_container_cgroup(const ContainerState& state) noexcept;

} // namespace droplet
