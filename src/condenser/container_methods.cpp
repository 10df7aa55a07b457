// The container methods of the Manager: authorize, parse, call Containers, marshal.
#include "container_errors.hpp"
#include "manager.hpp"

namespace condenser {
namespace {

constexpr const char* manage_containers_action = "org.raind.condenser.manage-containers";

std::map<std::string, std::string> details(const std::string& container, const char* verb) {
    return {{"container", container}, {"verb", verb}};
}

} // namespace

void Manager::CreateContainer(sdbus::Result<std::string, sdbus::ObjectPath>&& result, std::string image,
                              std::vector<std::string> command, Properties options) {
    ContainerOptions parsed;
    try {
        parsed = parse_container_options(options); // on this thread: workers never touch bus data
    } catch (...) {
        return result.returnError(errors::from_exception(std::current_exception()));
    }
    auto name = parsed.name;
    manage_containers(std::move(result), {{"image", image}, {"name", name}, {"verb", "create"}},
                      [this, image, command, parsed](std::stop_token) {
                          auto record = containers_.create(image, command, parsed);
                          return std::tuple{record.id, sdbus::ObjectPath(ContainerObjects::path_of(record.id))};
                      });
}

void Manager::StartContainer(sdbus::Result<>&& result, std::string container) {
    manage_containers(std::move(result), details(container, "start"), [this, container](std::stop_token) {
        containers_.start(container);
        return std::tuple<>{};
    });
}

void Manager::StopContainer(sdbus::Result<>&& result, std::string container, uint32_t timeout_seconds) {
    manage_containers(std::move(result), details(container, "stop"),
                      [this, container, timeout_seconds](std::stop_token stop) {
                          containers_.stop(container, timeout_seconds, stop);
                          return std::tuple<>{};
                      });
}

void Manager::KillContainer(sdbus::Result<>&& result, std::string container, std::string signal) {
    int number = 0;
    try {
        number = parse_signal(signal);
    } catch (...) {
        return result.returnError(errors::from_exception(std::current_exception()));
    }
    auto verb = details(container, "kill");
    verb["signal"] = signal;
    manage_containers(std::move(result), verb, [this, container, number](std::stop_token) {
        containers_.kill(container, number);
        return std::tuple<>{};
    });
}

void Manager::RemoveContainer(sdbus::Result<>&& result, std::string container, bool force) {
    auto verb = details(container, "remove");
    verb["force"] = force ? "true" : "false";
    manage_containers(std::move(result), verb, [this, container, force](std::stop_token stop) {
        containers_.remove(container, force, stop);
        return std::tuple<>{};
    });
}

void Manager::WaitContainer(sdbus::Result<int32_t>&& result, std::string container) {
    // Answered from the loop thread when the container exits: no worker blocks meanwhile.
    auto reply = std::make_shared<sdbus::Result<int32_t>>(std::move(result));
    authority_.check(current_caller(getObject()), manage_containers_action, details(container, "wait"),
                     [this, reply, container, guard = activity_.begin()](std::optional<sdbus::Error> denied) {
                         if (denied)
                             return reply->returnError(*denied);
                         try {
                             containers_.wait(container, [reply, guard](int status) { reply->returnResults(status); });
                         } catch (...) {
                             reply->returnError(errors::from_exception(std::current_exception()));
                         }
                     });
}

void Manager::ListContainers(sdbus::Result<std::vector<Properties>>&& result, bool all) {
    read(std::move(result), {{"verb", "list-containers"}}, [this, all](auto& reply) {
        std::vector<Properties> rows;
        for (const auto* view : containers_.objects().all())
            if (all || view->state == "running")
                rows.push_back(properties_of(*view));
        reply.returnResults(rows);
    });
}

void Manager::AttachContainer(sdbus::Result<sdbus::UnixFd, bool, std::vector<sdbus::UnixFd>>&& result,
                              std::string container) {
    manage_containers(std::move(result), details(container, "attach"), [this, container](std::stop_token) {
        auto attached = containers_.attach(container);
        std::vector<sdbus::UnixFd> master;
        if (attached.master)
            master.emplace_back(attached.master.release(), sdbus::adopt_fd);
        return std::tuple{sdbus::UnixFd(attached.stream.release(), sdbus::adopt_fd), attached.tty, master};
    });
}

void Manager::ExecContainer(sdbus::Result<bool, std::vector<sdbus::UnixFd>, sdbus::UnixFd>&& result,
                            std::string container, std::vector<std::string> command, Properties options) {
    ExecOptions parsed;
    try {
        parsed = parse_exec_options(options);
    } catch (...) {
        return result.returnError(errors::from_exception(std::current_exception()));
    }
    serve_authorized_async(getObject(), authority_, activity_, container_async_, "org.raind.condenser.exec",
                           details(container, "exec"), std::move(result),
                           [this, container, command, parsed](std::stop_token) {
                               auto session = containers_.exec(container, command, parsed);
                               std::vector<sdbus::UnixFd> fds;
                               for (auto* fd : {&session.master, &session.stdin_fd, &session.stdout_fd,
                                                &session.stderr_fd})
                                   if (*fd)
                                       fds.emplace_back(fd->release(), sdbus::adopt_fd);
                               return std::tuple{session.tty, fds,
                                                 sdbus::UnixFd(session.control.release(), sdbus::adopt_fd)};
                           });
}

void Manager::ContainerLogs(sdbus::Result<sdbus::UnixFd>&& result, std::string container, Properties options) {
    LogOptions parsed;
    try {
        parsed = parse_log_options(options);
    } catch (...) {
        return result.returnError(errors::from_exception(std::current_exception()));
    }
    read(std::move(result), details(container, "logs"), [this, container, parsed](auto& reply) {
        reply.returnResults(sdbus::UnixFd(containers_.logs(container, parsed).release(), sdbus::adopt_fd));
    });
}

void Manager::PauseContainer(sdbus::Result<>&& result, std::string container) {
    manage_containers(std::move(result), details(container, "pause"), [this, container](std::stop_token) {
        containers_.pause(container, true);
        return std::tuple<>{};
    });
}

void Manager::UnpauseContainer(sdbus::Result<>&& result, std::string container) {
    manage_containers(std::move(result), details(container, "unpause"), [this, container](std::stop_token) {
        containers_.pause(container, false);
        return std::tuple<>{};
    });
}

void Manager::RenameContainer(sdbus::Result<>&& result, std::string container, std::string name) {
    auto verb = details(container, "rename");
    verb["name"] = name;
    manage_containers(std::move(result), verb, [this, container, name](std::stop_token) {
        containers_.rename(container, name);
        return std::tuple<>{};
    });
}

void Manager::TopContainer(sdbus::Result<std::vector<ProcessRow>>&& result, std::string container) {
    read(std::move(result), details(container, "top"), [this, container](auto& reply) {
        std::vector<ProcessRow> rows;
        for (const auto& p : containers_.top(container))
            rows.emplace_back(p.pid, p.ppid, p.uid, p.command);
        reply.returnResults(rows);
    });
}

void Manager::StatsContainer(sdbus::Result<std::map<std::string, uint64_t>>&& result, std::string container) {
    read(std::move(result), details(container, "stats"), [this, container](auto& reply) {
        reply.returnResults(containers_.stats(container));
    });
}

void Manager::GetContainer(sdbus::Result<sdbus::ObjectPath>&& result, std::string container) {
    read(std::move(result), details(container, "get-container"), [this, container](auto& reply) {
        const auto* view = containers_.objects().find(container);
        if (!view)
            throw NoSuchContainer(container);
        reply.returnResults(sdbus::ObjectPath(ContainerObjects::path_of(view->record.id)));
    });
}

} // namespace condenser
