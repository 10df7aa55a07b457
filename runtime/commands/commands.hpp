// droplet's verbs: each file adds one subcommand and returns how to run it once parsed.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace droplet {

struct GlobalOptions {
    std::string root = "/run/droplet";
    std::string log;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false;
    std::string rootless = "auto";
};

struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run; // the process exit status
};

Command add_create(CLI::App& parent, const GlobalOptions& global);
Command add_start(CLI::App& parent, const GlobalOptions& global);
Command add_run(CLI::App& parent, const GlobalOptions& global);
Command add_state(CLI::App& parent, const GlobalOptions& global);
Command add_kill(CLI::App& parent, const GlobalOptions& global);
Command add_delete(CLI::App& parent, const GlobalOptions& global);
Command add_exec(CLI::App& parent, const GlobalOptions& global);
Command add_list(CLI::App& parent, const GlobalOptions& global);
Command add_ps(CLI::App& parent, const GlobalOptions& global);
Command add_spec(CLI::App& parent, const GlobalOptions& global);
Command add_features(CLI::App& parent, const GlobalOptions& global);
Command add_pause(CLI::App& parent, const GlobalOptions& global);
Command add_resume(CLI::App& parent, const GlobalOptions& global);
Command add_update(CLI::App& parent, const GlobalOptions& global);
Command add_events(CLI::App& parent, const GlobalOptions& global);

} // namespace droplet
