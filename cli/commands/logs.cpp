// raind logs [-f] [--tail N] [--since T] [-t] CONTAINER: what the container wrote, from the
// log its shim keeps; stdout to stdout, stderr to stderr.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "client.hpp"
#include "commands.hpp"
#include "control.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "log_reader.hpp"
#include "terminal.hpp"

namespace raind::cli {
namespace {

// "10s", "5m", "2h" (ago), Unix seconds, or an RFC 3339 time -> Unix seconds.
int64_t parse_since(const std::string& text) {
    auto now = static_cast<int64_t>(std::time(nullptr));
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return std::stoll(text);
    if (text.size() > 1 && std::all_of(text.begin(), text.end() - 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        int64_t n = std::stoll(text.substr(0, text.size() - 1));
        switch (text.back()) {
        case 's': return now - n;
        case 'm': return now - n * 60;
        case 'h': return now - n * 3600;
        default: break;
        }
    }
    if (auto ns = shim::parse_log_time(text))
        return *ns / 1000000000;
    throw raind::Error("invalid --since \"" + text + "\": use 10s, 5m, 2h, Unix seconds or an RFC 3339 time");
}

} // namespace

void add_logs(CLI::App& app) {
    auto* command = app.add_subcommand("logs", "Show what a container wrote to stdout and stderr");
    auto name = std::make_shared<std::string>();
    auto follow = std::make_shared<bool>(false);
    auto timestamps = std::make_shared<bool>(false);
    auto tail = std::make_shared<std::string>("all");
    auto since = std::make_shared<std::string>();
    command->add_option("container", *name, "container name or id")->required();
    command->add_flag("-f,--follow", *follow, "keep printing new output until the container exits");
    command->add_flag("-t,--timestamps", *timestamps, "start every line with its time");
    command->add_option("-n,--tail", *tail, "only the last N lines (all: everything)")->capture_default_str();
    command->add_option("--since", *since, "only lines since 10s, 5m, 2h, Unix seconds or an RFC 3339 time");
    set_action(*command, [=] {
        std::map<std::string, sdbus::Variant> options;
        if (*follow)
            options["follow"] = sdbus::Variant(true);
        if (*timestamps)
            options["timestamps"] = sdbus::Variant(true);
        if (*tail != "all") {
            try {
                options["tail"] = sdbus::Variant(static_cast<int64_t>(std::stoll(*tail)));
            } catch (const std::exception&) {
                throw raind::Error("invalid --tail \"" + *tail + "\": a number or all");
            }
        }
        if (!since->empty())
            options["since"] = sdbus::Variant(parse_since(*since));
        Client client;
        raind::UniqueFd stream(client.manager().ContainerLogs(*name, options).release());
        std::string frames, out, err;
        char buffer[32768];
        for (ssize_t n; (n = ::read(stream.get(), buffer, sizeof buffer)) != 0;) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                raind::throw_errno("read the log of " + *name);
            frames.append(buffer, static_cast<size_t>(n));
            shim::unframe(frames, out, err);
            write_all(STDOUT_FILENO, out.data(), out.size());
            write_all(STDERR_FILENO, err.data(), err.size());
            out.clear();
            err.clear();
        }
        return 0;
    });
}

} // namespace raind::cli
