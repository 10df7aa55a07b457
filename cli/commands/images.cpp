// raind images (a table like docker's, or --json) and raind image inspect.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "client.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "reference.hpp"

namespace raind::cli {
namespace {

std::string size_text(uint64_t bytes) {
    char text[32];
    if (bytes < 1000)
        std::snprintf(text, sizeof text, "%lluB", static_cast<unsigned long long>(bytes));
    else if (bytes < 1000 * 1000)
        std::snprintf(text, sizeof text, "%.1fkB", static_cast<double>(bytes) / 1e3);
    else
        std::snprintf(text, sizeof text, "%.1fMB", static_cast<double>(bytes) / 1e6);
    return text;
}

} // namespace

void add_images(CLI::App& app) {
    auto* command = app.add_subcommand("images", "List images");
    auto json = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    command->add_flag("--json", *json, "print JSON for scripts");
    command->add_flag("-q,--quiet", *quiet, "print only image ids");
    set_action(*command, [=] {
        Client client;
        auto rows = client.manager().ListImages();
        if (*json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& row : rows)
                out.push_back({{"Id", row.get<0>()},
                               {"Names", row.get<1>()},
                               {"Digest", row.get<2>()},
                               {"Created", row.get<3>()},
                               {"Size", row.get<4>()}});
            std::cout << out.dump(2) << "\n";
            return 0;
        }
        if (!*quiet)
            std::printf("%-40s %-12s %-14s %-24s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
        for (const auto& row : rows) {
            std::string id = row.get<0>().substr(7, 12);
            if (*quiet) {
                std::printf("%s\n", id.c_str());
                continue;
            }
            std::vector<std::string> names = row.get<1>();
            if (names.empty())
                names.push_back("<none>:<none>");
            for (const auto& name : names) {
                std::string repository = "<none>", tag = "<none>";
                if (name != "<none>:<none>") {
                    auto ref = images::Reference::parse(name);
                    auto familiar = images::Reference{ref.registry, ref.repository, "", ""}.familiar();
                    repository = familiar;
                    tag = ref.tag.empty() ? "<none>" : ref.tag;
                }
                std::printf("%-40s %-12s %-14s %-24s %s\n", repository.c_str(), tag.c_str(), id.c_str(),
                            ago(row.get<3>()).c_str(), size_text(row.get<4>()).c_str());
            }
        }
        return 0;
    });

    auto* image = app.add_subcommand("image", "Manage images");
    image->require_subcommand(1);
    auto* inspect = image->add_subcommand("inspect", "Show an image's configuration and layers as JSON");
    auto names = std::make_shared<std::vector<std::string>>();
    inspect->add_option("image", *names, "image names or ids")->required();
    set_action(*inspect, [=] {
        Client client;
        nlohmann::json out = nlohmann::json::array();
        for (const auto& name : *names)
            out.push_back(nlohmann::json::parse(client.manager().InspectImage(name)));
        std::cout << out.dump(4) << "\n";
        return 0;
    });
}

} // namespace raind::cli
