#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cgroup_resources.hpp"
#include "commands.hpp"
#include "container_cgroup.hpp"
#include "error.hpp"
#include "file_util.hpp"

namespace droplet {
namespace {

struct UpdateFlags {
    std::string resources_file;
    std::optional<int64_t> memory, memory_reservation, memory_swap, cpu_quota, pids_limit;
    std::optional<uint64_t> cpu_shares, cpu_period, blkio_weight;
    std::string cpuset_cpus, cpuset_mems;
};

// The flags become a linux.resources document, so they go through the same parser as a file.
nlohmann::json flags_to_resources(const UpdateFlags& f) {
    nlohmann::json r = nlohmann::json::object();
    if (f.memory)
        r["memory"]["limit"] = *f.memory;
    if (f.memory_reservation)
        r["memory"]["reservation"] = *f.memory_reservation;
    if (f.memory_swap)
        r["memory"]["swap"] = *f.memory_swap;
    if (f.cpu_shares)
        r["cpu"]["shares"] = *f.cpu_shares;
    if (f.cpu_quota)
        r["cpu"]["quota"] = *f.cpu_quota;
    if (f.cpu_period)
        r["cpu"]["period"] = *f.cpu_period;
    if (!f.cpuset_cpus.empty())
        r["cpu"]["cpus"] = f.cpuset_cpus;
    if (!f.cpuset_mems.empty())
        r["cpu"]["mems"] = f.cpuset_mems;
    if (f.pids_limit)
        r["pids"]["limit"] = *f.pids_limit;
    if (f.blkio_weight)
        r["blockIO"]["weight"] = *f.blkio_weight;
    return r;
}

} // namespace

Command add_update(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("update", "change a running container's resource limits");
    auto id = std::make_shared<std::string>();
    auto f = std::make_shared<UpdateFlags>();
    app->add_option("id", *id, "container id")->required();
    app->add_option("-r,--resources", f->resources_file, "linux.resources JSON file (\"-\" for stdin)");
    app->add_option("--memory", f->memory, "memory limit in bytes (-1: unlimited)");
    app->add_option("--memory-reservation", f->memory_reservation, "memory soft limit in bytes");
    app->add_option("--memory-swap", f->memory_swap, "memory plus swap limit in bytes (-1: unlimited)");
    app->add_option("--cpu-shares", f->cpu_shares, "relative CPU weight (cgroup v1 shares)");
    app->add_option("--cpu-quota", f->cpu_quota, "CPU time in microseconds per period (-1: unlimited)");
    app->add_option("--cpu-period", f->cpu_period, "CPU period in microseconds");
    app->add_option("--cpuset-cpus", f->cpuset_cpus, "CPUs the container may use (0-3,5)");
    app->add_option("--cpuset-mems", f->cpuset_mems, "memory nodes the container may use");
    app->add_option("--pids-limit", f->pids_limit, "maximum number of tasks (-1: unlimited)");
    app->add_option("--blkio-weight", f->blkio_weight, "block IO weight (10-1000)");
    return {app, [id, f, &global] {
                ContainerState s = load_state(global.root, *id);
                if (current_status(global.root, s) == Status::stopped)
                    throw raind::Error("cannot update container \"" + *id + "\": it is stopped");
                std::string text;
                if (f->resources_file == "-")
                    text = read_file("/dev/stdin");
                else if (!f->resources_file.empty())
                    text = read_file(f->resources_file);
                CgroupResources resources = parse_resources(text);
                merge_resources(resources, parse_resources(flags_to_resources(*f).dump()));
                if (resources.empty())
                    throw raind::Error("update: nothing to change (give --resources FILE or a limit flag)");
                if (s.cgroup_driver.empty())
                    throw raind::Error("cannot update container \"" + *id + "\": it has no cgroup (cgroups are disabled)");
                if (!resources.devices.empty())
                    resources.devices = effective_device_rules(resources.devices, {});
                container_cgroup(s)->update(resources);
                return 0;
            }};
}

} // namespace droplet
