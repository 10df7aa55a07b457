#include <pwd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "error.hpp"
#include "state.hpp"

namespace droplet {

Command add_list(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("list", "list containers");
    auto format = std::make_shared<std::string>("table");
    auto quiet = std::make_shared<bool>(false);
    app->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    app->add_flag("-q,--quiet", *quiet, "ids only");
    return {app, [format, quiet, &global] {
                std::vector<std::pair<ContainerState, Status>> rows;
                for (const std::string& id : list_ids(global.root)) {
                    try {
                        ContainerState s = load_state(global.root, id);
                        rows.emplace_back(s, current_status(global.root, s));
                    } catch (const raind::Error&) {
                        // removed while we listed, or not ours
                    }
                }
                if (*quiet) {
                    for (auto& [s, st] : rows)
                        std::puts(s.id.c_str());
                    return 0;
                }
                if (*format == "json") {
                    nlohmann::json all = nlohmann::json::array();
                    for (auto& [s, st] : rows)
                        all.push_back(state_document(s, st));
                    std::puts(all.dump().c_str());
                    return 0;
                }
                size_t w = 2;
                for (auto& [s, st] : rows)
                    w = std::max(w, s.id.size());
                std::printf("%-*s  %-7s  %-8s  %-40s  %-30s  %s\n", static_cast<int>(w), "ID", "PID", "STATUS",
                            "BUNDLE", "CREATED", "OWNER");
                for (auto& [s, st] : rows) {
                    passwd* pw = ::getpwuid(s.owner);
                    std::printf("%-*s  %-7d  %-8s  %-40s  %-30s  %s\n", static_cast<int>(w), s.id.c_str(),
                                st == Status::stopped ? 0 : s.pid, status_name(st), s.bundle.c_str(),
                                s.created.c_str(), pw ? pw->pw_name : std::to_string(s.owner).c_str());
                }
                return 0;
            }};
}

} // namespace droplet
