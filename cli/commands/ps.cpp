// raind ps [-a] [-q] [--json] and raind inspect: containers as a table, ids, or JSON.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "client.hpp"
#include "commands.hpp"
#include "format.hpp"

namespace raind::cli {
namespace {

using Properties = std::map<std::string, sdbus::Variant>;

template <typename T>
T get(const Properties& row, const char* key) {
    auto found = row.find(key);
    return found == row.end() ? T{} : found->second.get<T>();
}

nlohmann::json to_json(const Properties& row) {
    return {
        {"Id", get<std::string>(row, "Id")},
        {"Name", get<std::string>(row, "Name")},
        {"Image", get<std::string>(row, "Image")},
        {"ImageId", get<std::string>(row, "ImageId")},
        {"Command", get<std::vector<std::string>>(row, "Command")},
        {"State", get<std::string>(row, "State")},
        {"Pid", get<uint32_t>(row, "Pid")},
        {"ExitCode", get<int32_t>(row, "ExitCode")},
        {"Unit", get<std::string>(row, "Unit")},
        {"CreatedAt", get<int64_t>(row, "CreatedAt")},
        {"StartedAt", get<int64_t>(row, "StartedAt")},
        {"FinishedAt", get<int64_t>(row, "FinishedAt")},
        {"Labels", get<std::map<std::string, std::string>>(row, "Labels")},
        {"AutoRemove", get<bool>(row, "AutoRemove")},
        {"RestartPolicy", get<std::string>(row, "RestartPolicy")},
        {"Tty", get<bool>(row, "Tty")},
    };
}

std::string status_text(const Properties& row) {
    auto state = get<std::string>(row, "State");
    auto now = static_cast<int64_t>(std::time(nullptr));
    if (state == "running")
        return "Up " + human_duration(now - get<int64_t>(row, "StartedAt"));
    if (state == "exited") {
        auto finished = get<int64_t>(row, "FinishedAt");
        std::string text = "Exited (" + std::to_string(get<int32_t>(row, "ExitCode")) + ")";
        return finished ? text + " " + human_duration(now - finished) + " ago" : text;
    }
    if (state == "created")
        return "Created";
    return state;
}

std::string command_text(const Properties& row) {
    std::string text;
    for (const auto& arg : get<std::vector<std::string>>(row, "Command"))
        text += (text.empty() ? "" : " ") + arg;
    if (text.size() > 20)
        text = text.substr(0, 19) + "…";
    return "\"" + text + "\"";
}

} // namespace

void add_ps(CLI::App& app) {
    auto* command = app.add_subcommand("ps", "List containers (running ones unless -a)");
    auto all = std::make_shared<bool>(false);
    auto json = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    command->add_flag("-a,--all", *all, "also created and exited containers");
    command->add_flag("--json", *json, "print JSON for scripts");
    command->add_flag("-q,--quiet", *quiet, "print only container ids");
    set_action(*command, [=] {
        Client client;
        auto rows = client.manager().ListContainers(*all);
        if (*json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& row : rows)
                out.push_back(to_json(row));
            std::cout << out.dump(2) << "\n";
            return 0;
        }
        if (!*quiet)
            std::printf("%-14s %-24s %-22s %-24s %-28s %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                        "STATUS", "NAMES");
        for (const auto& row : rows) {
            auto id = get<std::string>(row, "Id").substr(0, 12);
            if (*quiet) {
                std::printf("%s\n", id.c_str());
                continue;
            }
            std::printf("%-14s %-24s %-22s %-24s %-28s %s\n", id.c_str(), get<std::string>(row, "Image").c_str(),
                        command_text(row).c_str(), ago(get<int64_t>(row, "CreatedAt")).c_str(),
                        status_text(row).c_str(), get<std::string>(row, "Name").c_str());
        }
        return 0;
    });

    auto* inspect = app.add_subcommand("inspect", "Show containers' state and settings as JSON");
    auto names = std::make_shared<std::vector<std::string>>();
    inspect->add_option("container", *names, "container names or ids")->required();
    set_action(*inspect, [=] {
        Client client;
        auto rows = client.manager().ListContainers(true);
        nlohmann::json out = nlohmann::json::array();
        for (const auto& name : *names) {
            auto path = client.manager().GetContainer(name); // NoSuchContainer names it
            for (const auto& row : rows)
                if (path == "/org/raind/Condenser1/container/" + get<std::string>(row, "Id"))
                    out.push_back(to_json(row));
        }
        std::cout << out.dump(4) << "\n";
        return 0;
    });
}

} // namespace raind::cli
