// raind version: the client's version and what condenser reports about itself.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "client.hpp"
#include "commands.hpp"
#include "raind-config.h"

namespace raind::cli {
namespace {

nlohmann::json to_json(const std::map<std::string, sdbus::Variant>& info) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : info) {
        if (value.containsValueOfType<std::string>())
            out[key] = value.get<std::string>();
        else if (value.containsValueOfType<bool>())
            out[key] = value.get<bool>();
        else if (value.containsValueOfType<uint64_t>())
            out[key] = value.get<uint64_t>();
        else if (value.containsValueOfType<int64_t>())
            out[key] = value.get<int64_t>();
    }
    return out;
}

} // namespace

void add_version(CLI::App& app) {
    auto* command = app.add_subcommand("version", "Show the raind client and condenser versions");
    auto json = std::make_shared<bool>(false);
    command->add_flag("--json", *json, "print JSON for scripts");
    set_action(*command, [json] {
        Client client;
        nlohmann::json server = to_json(client.manager().Version());
        if (*json) {
            std::cout << nlohmann::json{{"Client", {{"Version", RAIND_VERSION}}}, {"Server", server}}.dump(2) << "\n";
            return 0;
        }
        std::printf("Client:\n  Version:       %s\n", RAIND_VERSION);
        std::printf("Server (condenser):\n");
        for (const char* key : {"Version", "ApiVersion", "StorageRoot", "CgroupDriver", "Runtime"})
            if (server.contains(key))
                std::printf("  %-14s %s\n", (std::string(key) + ":").c_str(), server[key].get<std::string>().c_str());
        return 0;
    });
}

} // namespace raind::cli
