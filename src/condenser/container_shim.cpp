#include "container_shim.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "fd.hpp"
#include "log_reader.hpp"
#include "state_files.hpp"

extern char** environ;

namespace condenser {
namespace {

// posix_spawn's attributes and file actions, destroyed with the scope.
struct SpawnSetup {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        ::posix_spawnattr_init(&attr);
        ::posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        ::posix_spawn_file_actions_destroy(&actions);
        ::posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

bool socket_answers(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string text = path.string();
    if (text.size() >= sizeof addr.sun_path)
        return false;
    std::memcpy(addr.sun_path, text.c_str(), text.size() + 1);
    raind::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

} // namespace

ContainerPaths container_paths(const ShimSettings& settings, const std::string& id) {
    auto bundle = settings.containers_dir / id;
    return {bundle, settings.run_dir / id, bundle / "container.log"};
}

ProgramResult run_program(const std::vector<std::string>& argv) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
        raind::throw_errno("pipe for " + argv.at(0));
    raind::UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

    SpawnSetup setup;
    sigset_t none, defaults;
    ::sigemptyset(&none);
    ::sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP})
        ::sigaddset(&defaults, s);
    ::posix_spawnattr_setsigmask(&setup.attr, &none);
    ::posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    ::posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    ::posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(&setup.actions, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), 2);

    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int error = ::posix_spawn(&pid, argv[0].c_str(), &setup.actions, &setup.attr, args.data(), environ);
    if (error != 0)
        throw raind::SystemError("run " + argv[0], error);
    write_end.reset();

    ProgramResult result;
    char buffer[4096];
    for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        result.error.append(buffer, static_cast<size_t>(n));
    }
    int wait_status = 0;
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    while (!result.error.empty() && result.error.back() == '\n')
        result.error.pop_back();
    return result;
}

void launch_shim(const ShimSettings& settings, const ContainerRecord& record, bool start) {
    auto paths = container_paths(settings, record.id);
    std::filesystem::create_directories(settings.run_dir);
    if (::mkdir(paths.shim.c_str(), 0700) != 0)
        raind::throw_errno("create the shim's directory " + paths.shim.string());
    std::vector<std::string> argv = {settings.shim_path,
                                     "--id", record.id,
                                     "--bundle", paths.bundle.string(),
                                     "--state-dir", paths.shim.string(),
                                     "--runtime", settings.runtime_path,
                                     "--systemd-cgroup",
                                     "--name", record.name,
                                     "--log-path", paths.log.string(),
                                     "--restart", record.restart};
    if (record.tty)
        argv.push_back("--terminal");
    else if (record.interactive)
        argv.insert(argv.end(), {"--stdin", "--stdin-once"});
    if (start)
        argv.push_back("--start");
    ProgramResult result;
    try {
        result = run_program(argv);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(paths.shim, ignored);
        throw;
    }
    if (result.status != 0) {
        std::error_code ignored;
        std::filesystem::remove_all(paths.shim, ignored);
        std::string message = result.error;
        if (message.rfind("droplet-shim: ", 0) == 0)
            message.erase(0, 14);
        throw raind::Error("container " + record.name + ": " + (message.empty() ? "the shim failed" : message));
    }
}

void remove_shim_state(const ShimSettings& settings, const std::string& id) {
    std::error_code error;
    std::filesystem::remove_all(settings.run_dir / id, error);
    if (error)
        throw raind::SystemError("remove " + (settings.run_dir / id).string(), error.value());
}

ShimStatus read_shim_status(const std::filesystem::path& shim_dir) {
    ShimStatus status;
    status.alive = socket_answers(shim_dir / "ctl");
    auto parse = [](const std::string& text) {
        return text.empty() ? nlohmann::json() : nlohmann::json::parse(text, nullptr, false);
    };
    auto state = parse(shim::read_text_file((shim_dir / "shim.json").string()));
    if (state.is_object()) {
        status.status = state.value("status", "");
        status.pid = state.value("container_pid", 0);
    }
    auto exit = parse(shim::read_text_file((shim_dir / "exit").string()));
    if (exit.is_object() && exit.contains("status")) {
        status.exit_status = exit.value("status", -1);
        if (auto ns = shim::parse_log_time(exit.value("time", "")))
            status.finished = *ns / 1000000000;
    }
    return status;
}

void runtime_pause(const ShimSettings& settings, const std::string& id, bool pause) {
    auto result = run_program({settings.runtime_path, pause ? "pause" : "resume", id});
    if (result.status != 0)
        throw raind::Error((pause ? "pause container " : "unpause container ") + id.substr(0, 12) + ": " +
                           result.error);
}

void runtime_kill(const ShimSettings& settings, const std::string& id, int signal) {
    auto result = run_program({settings.runtime_path, "kill", id, std::to_string(signal)});
    if (result.status != 0)
        throw raind::Error("kill container " + id.substr(0, 12) + ": " + result.error);
}

} // namespace condenser
