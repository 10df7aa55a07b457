#include <signal.h>
#include <string.h>

#include <CLI/CLI.hpp>
#include <cctype>

#include "commands.hpp"
#include "container.hpp"
#include "error.hpp"

namespace droplet {
namespace {

// "9", "KILL", "SIGKILL", "sigkill", "SIGRTMIN+3".
int parse_signal(std::string name) {
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
        char* end = nullptr;
        long n = std::strtol(name.c_str(), &end, 10);
        if (*end == 0 && n > 0 && n < NSIG)
            return static_cast<int>(n);
        throw raind::Error("invalid signal \"" + name + "\"");
    }
    std::string upper;
    for (char c : name)
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.rfind("SIG", 0) == 0)
        upper = upper.substr(3);
    for (int s = 1; s < SIGRTMIN; ++s) {
        const char* abbrev = ::sigabbrev_np(s);
        if (abbrev && upper == abbrev)
            return s;
    }
    if (upper.rfind("RTMIN", 0) == 0 || upper.rfind("RTMAX", 0) == 0) {
        int base = upper[2] == 'M' && upper[3] == 'I' ? SIGRTMIN : SIGRTMAX;
        int offset = upper.size() > 5 ? std::atoi(upper.c_str() + 5) : 0;
        int s = base + offset;
        if (s >= SIGRTMIN && s <= SIGRTMAX)
            return s;
    }
    throw raind::Error("invalid signal \"" + name + "\"");
}

} // namespace

Command add_kill(CLI::App& parent, const GlobalOptions& global) {
    auto* app = parent.add_subcommand("kill", "send a signal (default SIGTERM) to a container's init");
    auto id = std::make_shared<std::string>();
    auto signal = std::make_shared<std::string>("SIGTERM");
    auto all = std::make_shared<bool>(false);
    app->add_option("id", *id, "container id")->required();
    app->add_option("signal", *signal, "signal name or number");
    app->add_flag("-a,--all", *all, "signal every process of the container");
    return {app, [id, signal, all, &global] {
                kill_container(global.root, *id, parse_signal(*signal), *all);
                return 0;
            }};
}

} // namespace droplet
