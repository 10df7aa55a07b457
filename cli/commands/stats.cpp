// raind stats CONTAINER…: CPU time, memory and process count from each container's cgroup,
// once (like docker stats --no-stream); --json for scripts.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "client.hpp"
#include "commands.hpp"

namespace raind::cli {
namespace {

std::string mib(const std::map<std::string, uint64_t>& stats, const char* key) {
    auto found = stats.find(key);
    if (found == stats.end())
        return "-";
    if (found->second > (1ULL << 60))
        return "max";
    char text[32];
    std::snprintf(text, sizeof text, "%.1fMiB", static_cast<double>(found->second) / (1024.0 * 1024.0));
    return text;
}

} // namespace

void add_stats(CLI::App& app) {
    auto* command = app.add_subcommand("stats", "Show containers' resource use (once)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto json = std::make_shared<bool>(false);
    command->add_option("container", *names, "container names or ids")->required();
    command->add_flag("--json", *json, "print JSON for scripts");
    set_action(*command, [=] {
        Client client;
        nlohmann::json out = nlohmann::json::object();
        if (!*json)
            std::printf("%-24s %-12s %-22s %s\n", "NAME", "CPU TIME", "MEM USAGE / LIMIT", "PIDS");
        for (const auto& name : *names) {
            auto stats = client.manager().StatsContainer(name);
            if (*json) {
                out[name] = stats;
                continue;
            }
            char cpu[32];
            std::snprintf(cpu, sizeof cpu, "%.2fs", static_cast<double>(stats["cpu_usec"]) / 1e6);
            std::string memory = mib(stats, "memory_bytes") + " / " + mib(stats, "memory_max");
            std::printf("%-24s %-12s %-22s %llu\n", name.c_str(), cpu, memory.c_str(),
                        static_cast<unsigned long long>(stats["pids"]));
        }
        if (*json)
            std::cout << out.dump(2) << "\n";
        return 0;
    });
}

} // namespace raind::cli
