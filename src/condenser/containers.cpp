#include "containers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "container_bundle.hpp"
#include "container_errors.hpp"
#include "container_processes.hpp"
#include "container_spec.hpp"
#include "error.hpp"
#include "image_config.hpp"
#include "log.hpp"

namespace condenser {
namespace {

namespace images = raind::images;

// The shim's answer to `wait`, unless `stop` is requested or timeout_ms (-1: none) passes
// first; nullopt too when the shim went away without answering.
std::optional<int> wait_for(shim::WaitRequest& request, std::stop_token stop, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!stop.stop_requested()) {
        pollfd p{request.fd(), POLLIN, 0};
        int ready = ::poll(&p, 1, 200);
        if (ready > 0) {
            try {
                return request.result();
            } catch (const raind::Error&) {
                return std::nullopt;
            }
        }
        if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
    }
    return std::nullopt;
}

bool live(const ShimStatus& status) { return status.alive && status.status != "exited"; }

} // namespace

Containers::Containers(sdbus::IConnection& connection, Loop& loop, raind::db::Database& database,
                       images::Store& store, ShimSettings settings)
    : loop_(loop), database_(database), store_(store), settings_(std::move(settings)), objects_(connection),
      records_(database_) {
    std::vector<ContainerRecord> records;
    {
        std::lock_guard lock(records_mutex_);
        records = records_.all();
    }
    for (const auto& record : records) {
        auto view = view_of(record);
        apply(view);
        if (view.state != "exited")
            watch(record.id);
    }
}

Containers::~Containers() = default;

std::vector<std::string> Containers::users_of(const std::string& image_id) {
    std::lock_guard lock(records_mutex_);
    std::vector<std::string> names;
    for (const auto& record : records_.all())
        if (record.image_id == image_id)
            names.push_back(record.name);
    return names;
}

ContainerRecord Containers::record_of(const std::string& container) {
    std::lock_guard lock(records_mutex_);
    auto record = records_.find(container);
    if (!record)
        throw NoSuchContainer(container);
    return *record;
}

std::shared_ptr<std::mutex> Containers::lock_for(const std::string& id) {
    std::lock_guard lock(locks_mutex_);
    auto& slot = locks_[id];
    auto mutex = slot.lock();
    if (!mutex) {
        mutex = std::make_shared<std::mutex>();
        slot = mutex;
    }
    std::erase_if(locks_, [](const auto& entry) { return entry.second.expired(); });
    return mutex;
}

ContainerView Containers::view_of(const ContainerRecord& record) {
    auto status = read_shim_status(container_paths(settings_, record.id).shim);
    ContainerView view{record};
    if (live(status)) {
        view.state = status.status == "created" ? "created" : "running";
        view.pid = static_cast<uint32_t>(status.pid);
        if (view.state == "running" && status.pid > 0 && cgroup_frozen(status.pid))
            view.state = "paused";
    } else {
        view.state = "exited";
        view.exit_code = status.exit_status.value_or(-1);
        view.finished = status.finished;
    }
    return view;
}

void Containers::refresh(const std::string& id) {
    // Read on the loop thread, in the order the requests arrive there: a view read earlier on
    // some worker can never overwrite a newer one.
    loop_.post([this, id] {
        std::optional<ContainerRecord> record;
        {
            std::lock_guard lock(records_mutex_);
            record = records_.find(id);
        }
        if (record)
            apply(view_of(*record));
    });
}

void Containers::watch(const std::string& id) {
    jobs_.start([this, id, dir = container_paths(settings_, id).shim.string()](std::stop_token stop) {
        try {
            shim::WaitRequest request(dir);
            wait_for(request, stop, -1);
        } catch (const raind::Error&) {
            // The shim is gone already: its files say how it ended.
        }
        if (!stop.stop_requested())
            refresh(id);
    });
}

void Containers::apply(const ContainerView& view) {
    const auto& id = view.record.id;
    if (gone_.count(id))
        return; // a refresh that raced with the removal
    objects_.put(view);
    if (view.state != "exited")
        return;
    if (!view.record.auto_remove) {
        fire_waiters(id, view.exit_code);
        return;
    }
    if (removing_[id])
        return;
    removing_[id] = true;
    jobs_.start([this, id, code = view.exit_code](std::stop_token stop) {
        try {
            remove(id, true, stop);
        } catch (const std::exception& e) {
            raind::log::warning("auto-remove of container " + id.substr(0, 12) + ": " + e.what() + ", ignoring");
            loop_.post([this, id, code] { fire_waiters(id, code); });
        }
    });
}

void Containers::removed(const std::string& id, int exit_code) {
    objects_.remove(id);
    gone_[id] = exit_code;
    removing_.erase(id);
    fire_waiters(id, exit_code);
}

void Containers::fire_waiters(const std::string& id, int status) {
    auto found = waiters_.find(id);
    if (found == waiters_.end())
        return;
    auto waiters = std::move(found->second);
    waiters_.erase(found);
    for (auto& done : waiters)
        done(status);
}

void Containers::wait(const std::string& container, std::function<void(int)> done) {
    const ContainerView* view = objects_.find(container);
    if (!view) {
        if (auto gone = gone_.find(container); gone != gone_.end())
            return done(gone->second);
        throw NoSuchContainer(container);
    }
    if (view->state == "exited" && !view->record.auto_remove)
        return done(view->exit_code);
    waiters_[view->record.id].push_back(std::move(done));
}

ContainerRecord Containers::create(const std::string& image, const std::vector<std::string>& command,
                                   const ContainerOptions& options) {
    auto found = store_.find_image(image);
    if (!found)
        throw images::NoSuchImage("image " + image + " not found locally (pull it first)");
    const auto& info = *found;
    auto config = apply_to_image(images::ImageConfig::parse(store_.read_blob(info.id)), options);

    ContainerRecord record;
    record.id = new_container_id();
    record.name = options.name.empty() ? default_container_name(record.id) : options.name;
    record.image = image;
    record.image_id = info.id.str();
    record.command = container_args(config, command);
    record.created = static_cast<int64_t>(std::time(nullptr));
    record.auto_remove = options.auto_remove;
    record.labels = options.labels;
    record.restart = options.restart;
    record.tty = options.tty;
    record.interactive = options.interactive;
    record.stop_signal = config.stop_signal;
    {
        std::lock_guard lock(records_mutex_);
        records_.add(record); // the name is taken from here on
    }
    try {
        ContainerRequest request{record.id, command, options.env, {}};
        create_bundle(settings_.containers_dir, store_.lower_dirs(info), config, request,
                      [&options](nlohmann::json& spec) { apply_to_spec(spec, options); });
        launch_shim(settings_, record, false);
    } catch (...) {
        try {
            remove_files(record);
        } catch (const std::exception& e) {
            raind::log::warning("clean up after a failed create of " + record.id.substr(0, 12) + ": " + e.what());
        }
        throw;
    }
    watch(record.id);
    refresh(record.id);
    return record;
}

void Containers::start(const std::string& container) {
    auto record = record_of(container);
    auto lock = lock_for(record.id);
    std::lock_guard guard(*lock);
    auto paths = container_paths(settings_, record.id);
    auto status = read_shim_status(paths.shim);
    if (status.alive && status.status == "created") {
        shim::start(paths.shim.string());
    } else if (!live(status)) {
        // A container that ran before gets a new shim.
        remove_shim_state(settings_, record.id);
        launch_shim(settings_, record, true);
        watch(record.id);
    } else {
        return; // running already
    }
    {
        std::lock_guard records_lock(records_mutex_);
        records_.set_started(record.id, static_cast<int64_t>(std::time(nullptr)));
    }
    refresh(record.id);
}

void Containers::stop(const std::string& container, unsigned timeout_seconds, std::stop_token stop) {
    auto record = record_of(container);
    auto lock = lock_for(record.id);
    std::lock_guard guard(*lock);
    auto dir = container_paths(settings_, record.id).shim.string();
    if (live(read_shim_status(dir))) {
        int signal = SIGTERM;
        if (!record.stop_signal.empty()) {
            try {
                signal = parse_signal(record.stop_signal);
            } catch (const InvalidContainerArgument&) {
                raind::log::warning("image StopSignal " + record.stop_signal + " is not a signal, using SIGTERM");
            }
        }
        try {
            shim::WaitRequest request(dir);
            shim::stop(dir, signal, static_cast<int>(timeout_seconds));
            if (!wait_for(request, stop, static_cast<int>(timeout_seconds + 15) * 1000) && !stop.stop_requested() &&
                live(read_shim_status(dir)))
                throw raind::Error("container " + record.name + " did not exit after SIGKILL");
        } catch (const raind::Error&) {
            if (live(read_shim_status(dir)))
                throw;
        }
    }
    refresh(record.id);
}

void Containers::kill(const std::string& container, int signal) {
    auto record = record_of(container);
    auto status = read_shim_status(container_paths(settings_, record.id).shim);
    if (!status.alive || status.status != "running")
        throw ContainerNotRunning("container " + record.name + " is not running");
    runtime_kill(settings_, record.id, signal);
}

void Containers::pause(const std::string& container, bool pause) {
    auto record = record_of(container);
    auto lock = lock_for(record.id);
    std::lock_guard guard(*lock);
    auto status = read_shim_status(container_paths(settings_, record.id).shim);
    if (!status.alive || status.status != "running")
        throw ContainerNotRunning("container " + record.name + " is not running");
    bool frozen = status.pid > 0 && cgroup_frozen(status.pid);
    if (pause && frozen)
        throw InvalidContainerArgument("container " + record.name + " is paused already");
    if (!pause && !frozen)
        throw InvalidContainerArgument("container " + record.name + " is not paused");
    runtime_pause(settings_, record.id, pause);
    refresh(record.id);
}

std::vector<ProcessInfo> Containers::top(const std::string& container) {
    auto record = record_of(container);
    auto status = read_shim_status(container_paths(settings_, record.id).shim);
    if (!live(status) || status.pid <= 0)
        throw ContainerNotRunning("container " + record.name + " is not running");
    return processes_in_cgroup_of(status.pid);
}

std::map<std::string, uint64_t> Containers::stats(const std::string& container) {
    auto record = record_of(container);
    auto status = read_shim_status(container_paths(settings_, record.id).shim);
    if (!live(status) || status.pid <= 0)
        throw ContainerNotRunning("container " + record.name + " is not running");
    return cgroup_stats_of(status.pid);
}

void Containers::rename(const std::string& container, const std::string& name) {
    check_container_name(name);
    auto record = record_of(container);
    {
        std::lock_guard lock(records_mutex_);
        records_.rename(record.id, name);
    }
    refresh(record.id);
}

void Containers::remove(const std::string& container, bool force, std::stop_token stop) {
    auto record = record_of(container);
    auto lock = lock_for(record.id);
    std::lock_guard guard(*lock);
    {
        std::lock_guard records_lock(records_mutex_);
        if (!records_.find(record.id))
            throw NoSuchContainer(container); // removed while we waited for the lock
    }
    auto dir = container_paths(settings_, record.id).shim.string();
    auto status = read_shim_status(dir);
    int code = status.exit_status.value_or(-1);
    if (live(status)) {
        if (status.status != "created" && !force)
            throw ContainerRunning("container " + record.name + " is running: stop it first, or remove it with force");
        try {
            shim::WaitRequest request(dir);
            shim::stop(dir, SIGKILL, 0);
            code = wait_for(request, stop, 15000).value_or(code);
        } catch (const raind::Error&) {
            // It ended meanwhile.
        }
        if (live(read_shim_status(dir)))
            throw raind::Error("container " + record.name + " did not exit after SIGKILL; not removed");
    }
    remove_files(record);
    loop_.post([this, id = record.id, code] { removed(id, code); });
}

void Containers::remove_files(const ContainerRecord& record) {
    remove_shim_state(settings_, record.id);
    remove_bundle(settings_.containers_dir, record.id);
    std::lock_guard lock(records_mutex_);
    records_.remove(record.id);
}

raind::UniqueFd Containers::logs(const std::string& container, const LogOptions& options) {
    auto record = record_of(container);
    auto paths = container_paths(settings_, record.id);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
        raind::throw_errno("pipe for the log of " + record.name);
    raind::UniqueFd read_end(pipe_fds[0]);
    auto write_end = std::make_shared<raind::UniqueFd>(pipe_fds[1]);
    // Following ends when the container does: a `wait` on its shim says when.
    std::shared_ptr<shim::WaitRequest> exited;
    if (options.follow && live(read_shim_status(paths.shim))) {
        try {
            exited = std::make_shared<shim::WaitRequest>(paths.shim.string());
        } catch (const raind::Error&) {
            // It has just ended: no following then.
        }
    }
    LogOptions effective = options;
    effective.follow = options.follow && exited;
    jobs_.start([log = paths.log.string(), effective, write_end, exited](std::stop_token stop) {
        try {
            stream_log(log, effective, std::move(*write_end), exited ? exited->fd() : -1, stop);
        } catch (const std::exception& e) {
            raind::log::warning(std::string("log stream: ") + e.what() + ", ignoring");
        }
    });
    return read_end;
}

shim::ExecSession Containers::exec(const std::string& container, const std::vector<std::string>& command,
                                   const ExecOptions& options) {
    auto record = record_of(container);
    auto paths = container_paths(settings_, record.id);
    auto status = read_shim_status(paths.shim);
    if (!status.alive || status.status != "running")
        throw ContainerNotRunning("container " + record.name + " is not running");
    return exec_in_container(paths, command, options);
}

shim::Attached Containers::attach(const std::string& container) {
    auto record = record_of(container);
    auto dir = container_paths(settings_, record.id).shim.string();
    if (!live(read_shim_status(dir))) {
        // A container that ran before is created again (a new shim, not started), so that
        // the start that follows misses none of its output.
        auto lock = lock_for(record.id);
        std::lock_guard guard(*lock);
        if (!live(read_shim_status(dir))) {
            remove_shim_state(settings_, record.id);
            launch_shim(settings_, record, false);
            watch(record.id);
            refresh(record.id);
        }
    }
    return shim::attach(dir);
}

} // namespace condenser
