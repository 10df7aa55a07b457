#include "container_cgroup.hpp"

#include <signal.h>

#include "log.hpp"

namespace droplet {

CgroupConfig cgroup_config(const Spec& spec, const std::string& id, bool systemd) {
    CgroupConfig config{id, spec.linux.cgroups_path, spec.linux.resources_json, systemd, {}};
    for (const Device& d : spec.linux.devices)
        if (d.type == 'c' || d.type == 'b' || d.type == 'u')
            config.device_nodes.push_back({true, d.type == 'b' ? 'b' : 'c', d.major, d.minor, "rwm"});
    return config;
}

CgroupRecord cgroup_record(const ContainerState& s) { return {s.cgroup_driver, s.cgroup_path, s.cgroup_unit}; }

void set_cgroup_record(ContainerState& s, const CgroupRecord& r) {
    s.cgroup_driver = r.driver;
    s.cgroup_path = r.path;
    s.cgroup_unit = r.unit;
}

std::unique_ptr<CgroupManager> container_cgroup(const ContainerState& s) {
    return open_cgroup_manager(cgroup_record(s));
}

std::vector<pid_t> container_processes(const ContainerState& s) {
    if (s.cgroup_driver.empty())
        return container_pids(s);
    return container_cgroup(s)->pids();
}

void signal_container_processes(const ContainerState& s, int signal) {
    if (s.cgroup_driver.empty()) {
        for (pid_t pid : container_pids(s))
            if (pid != s.pid)
                ::kill(pid, signal);
        return;
    }
    container_cgroup(s)->kill_all(signal, s.pid);
}

std::string container_status_name(const ContainerState& s, Status status) {
    if (status == Status::running && !s.cgroup_driver.empty()) {
        try {
            if (container_cgroup(s)->frozen())
                return "paused";
        } catch (const std::exception&) {
            // The cgroup vanished under us: the container is stopping; report what the kernel said.
        }
    }
    return status_name(status);
}

void kill_container_processes(const ContainerState& s) noexcept {
    try {
        signal_container_processes(s, SIGKILL);
    } catch (const std::exception& e) {
        raind::log::debug(std::string("kill the container's processes: ") + e.what() + ", ignoring");
    }
}

void destroy_container_cgroup(const ContainerState& s) noexcept {
    if (s.cgroup_driver.empty())
        return;
    try {
        auto cgroup = container_cgroup(s);
        // Processes the container left behind (daemons that escaped its pid 1) go first.
        try {
            cgroup->kill_all(SIGKILL);
        } catch (const std::exception& e) {
            raind::log::debug(std::string("kill what is left in the cgroup: ") + e.what() + ", ignoring");
        }
        cgroup->destroy();
    } catch (const std::exception& e) {
        raind::log::debug(std::string("remove the container's cgroup: ") + e.what() + ", ignoring");
    }
}

} // namespace droplet
