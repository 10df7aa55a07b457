#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "container_cgroup.hpp"
#include "error.hpp"
#include "file_util.hpp"
#include "state.hpp"

namespace droplet {
namespace {

std::string command_line(pid_t pid) {
    std::string text;
    try {
        text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    } catch (const raind::Error&) {
        return "";
    }
    for (char& c : text)
        if (c == 0)
            c = ' ';
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    return text;
}

} // namespace

Command add_ps(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("ps", "list the processes of a container");
    auto id = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    app->add_option("id", *id, "container id")->required();
    app->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    return {app, [id, format, &global] {
                ContainerState s = load_state(global.root, *id);
                std::vector<pid_t> pids;
                if (current_status(global.root, s) != Status::stopped)
                    pids = container_processes(s);
                if (*format == "json") {
                    std::puts(nlohmann::json(pids).dump().c_str());
                    return 0;
                }
                std::printf("%-8s %s\n", "PID", "CMD");
                for (pid_t p : pids)
                    std::printf("%-8d %s\n", p, command_line(p).c_str());
                return 0;
            }};
}

} // namespace droplet
