#include "container_flags.hpp"

#include <cstdlib>
#include <fstream>

#include "error.hpp"
#include "security_options.hpp"

namespace raind::cli {

std::shared_ptr<ContainerFlags> add_container_flags(CLI::App& command) {
    auto f = std::make_shared<ContainerFlags>();
    command.set_help_flag("--help", "print this help"); // -h is --hostname, as with docker
    auto list = [&](const char* names, std::vector<std::string>& into, const char* help) {
        command.add_option(names, into, help)->allow_extra_args(false);
    };
    command.add_option("--name", f->name, "name of the container");
    list("-e,--env", f->env, "environment variable KEY=value (KEY alone: take it from here)");
    list("--env-file", f->env_files, "read KEY=value lines from a file");
    command.add_option("-w,--workdir", f->workdir, "working directory in the container");
    command.add_option("-u,--user", f->user, "user[:group] (names or ids) to run as");
    command.add_option("--entrypoint", f->entrypoint, "replace the image's entrypoint")
        ->each([f](const std::string&) { f->entrypoint_set = true; });
    command.add_flag("-t,--tty", f->tty, "give the container a terminal");
    command.add_flag("-i,--interactive", f->interactive, "keep its standard input open");
    command.add_flag("--rm", f->auto_remove, "remove the container when it exits");
    list("-v,--volume", f->volumes, "bind mount host-path:container-path[:ro|rw]");
    list("--tmpfs", f->tmpfs, "tmpfs mount path[:size=…,mode=…]");
    command.add_flag("--read-only", f->read_only, "mount the root file system read-only");
    command.add_option("-m,--memory", f->memory, "memory limit (e.g. 64m, 1g)");
    command.add_option("--cpus", f->cpus, "CPU quota in CPUs (e.g. 0.5)");
    command.add_option("--pids-limit", f->pids_limit, "maximum number of processes (-1: unlimited)");
    list("--cap-add", f->cap_add, "add a capability (NET_ADMIN, ALL, …)");
    list("--cap-drop", f->cap_drop, "drop a capability");
    list("--security-opt", f->security_opt, "security option: no-new-privileges, seccomp=unconfined|PROFILE.json");
    command.add_option("-h,--hostname", f->hostname, "host name in the container");
    list("-l,--label", f->labels, "label KEY=value");
    command.add_option("--network,--net", f->network, "network: none (default) or host");
    command.add_option("--restart", f->restart, "restart policy: no, on-failure[:N], always, unless-stopped");
    command.add_option("--pull", f->pull, "pull the image: missing (when not here), always, never")
        ->check(CLI::IsMember({"missing", "always", "never"}))
        ->capture_default_str();
    command.prefix_command();
    command.positionals_at_end(false);
    return f;
}

void take_image_and_command(CLI::App& command, ContainerFlags& flags) {
    auto rest = command.remaining();
    if (rest.empty())
        throw CLI::ValidationError("IMAGE", "an image is required: raind " + command.get_name() + " [OPTIONS] IMAGE [COMMAND...]");
    flags.image = rest[0];
    flags.command.assign(rest.begin() + 1, rest.end());
}

uint64_t parse_bytes(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    double value = std::strtod(text.c_str(), &end);
    std::string unit = end ? end : "";
    uint64_t scale = 1;
    if (unit == "" || unit == "b" || unit == "B")
        scale = 1;
    else if (unit == "k" || unit == "K" || unit == "kb" || unit == "KB")
        scale = 1024;
    else if (unit == "m" || unit == "M" || unit == "mb" || unit == "MB")
        scale = 1024 * 1024;
    else if (unit == "g" || unit == "G" || unit == "gb" || unit == "GB")
        scale = 1024ULL * 1024 * 1024;
    else
        throw raind::Error("invalid size \"" + text + "\": use a number with b, k, m or g");
    if (end == text.c_str() || errno != 0 || value < 0)
        throw raind::Error("invalid size \"" + text + "\"");
    return static_cast<uint64_t>(value * static_cast<double>(scale));
}

namespace {

std::string resolved_env(const std::string& entry) {
    if (entry.find('=') != std::string::npos)
        return entry;
    const char* value = std::getenv(entry.c_str());
    return value ? entry + "=" + value : "";
}

} // namespace

std::map<std::string, sdbus::Variant> container_options(const ContainerFlags& f) {
    std::map<std::string, sdbus::Variant> o;
    std::vector<std::string> env;
    for (const auto& file : f.env_files) {
        std::ifstream in(file);
        if (!in)
            throw raind::Error("cannot read env file " + file);
        for (std::string line; std::getline(in, line);) {
            if (line.empty() || line[0] == '#')
                continue;
            if (auto entry = resolved_env(line); !entry.empty())
                env.push_back(entry);
        }
    }
    for (const auto& entry : f.env)
        if (auto resolved = resolved_env(entry); !resolved.empty())
            env.push_back(resolved);
    if (!f.name.empty())
        o["name"] = sdbus::Variant(f.name);
    if (!env.empty())
        o["env"] = sdbus::Variant(env);
    if (!f.workdir.empty())
        o["workdir"] = sdbus::Variant(f.workdir);
    if (!f.user.empty())
        o["user"] = sdbus::Variant(f.user);
    if (f.entrypoint_set)
        o["entrypoint"] = sdbus::Variant(f.entrypoint.empty() ? std::vector<std::string>{}
                                                              : std::vector<std::string>{f.entrypoint});
    if (f.tty)
        o["tty"] = sdbus::Variant(true);
    if (f.interactive)
        o["interactive"] = sdbus::Variant(true);
    if (f.auto_remove)
        o["auto_remove"] = sdbus::Variant(true);
    if (f.read_only)
        o["read_only"] = sdbus::Variant(true);
    if (!f.volumes.empty())
        o["volumes"] = sdbus::Variant(f.volumes);
    if (!f.tmpfs.empty())
        o["tmpfs"] = sdbus::Variant(f.tmpfs);
    if (!f.memory.empty())
        o["memory"] = sdbus::Variant(parse_bytes(f.memory));
    if (f.cpus != 0)
        o["cpus"] = sdbus::Variant(f.cpus);
    if (!f.pids_limit.empty()) {
        try {
            o["pids_limit"] = sdbus::Variant(static_cast<int64_t>(std::stoll(f.pids_limit)));
        } catch (const std::exception&) {
            throw raind::Error("invalid --pids-limit \"" + f.pids_limit + "\": not a number");
        }
    }
    if (!f.cap_add.empty())
        o["cap_add"] = sdbus::Variant(f.cap_add);
    if (!f.cap_drop.empty())
        o["cap_drop"] = sdbus::Variant(f.cap_drop);
    add_security_options(f.security_opt, o);
    if (!f.hostname.empty())
        o["hostname"] = sdbus::Variant(f.hostname);
    if (!f.labels.empty()) {
        std::map<std::string, std::string> labels;
        for (const auto& label : f.labels) {
            auto eq = label.find('=');
            labels[label.substr(0, eq)] = eq == std::string::npos ? "" : label.substr(eq + 1);
        }
        o["labels"] = sdbus::Variant(labels);
    }
    if (!f.network.empty())
        o["network"] = sdbus::Variant(f.network);
    if (!f.restart.empty())
        o["restart"] = sdbus::Variant(f.restart);
    return o;
}

} // namespace raind::cli
