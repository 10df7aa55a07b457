// The containers of this daemon: lifecycle operations (run on worker threads: they mount, spawn
// and wait), their D-Bus objects (loop thread), one watcher thread per live shim, and the
// reconciliation with the shims at start. The truth is the database record plus the shim's
// files; the objects are refreshed from them after every change, before the reply.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "container_exec.hpp"
#include "container_logs.hpp"
#include "container_objects.hpp"
#include "container_processes.hpp"
#include "container_options.hpp"
#include "container_records.hpp"
#include "container_shim.hpp"
#include "control.hpp"
#include "database.hpp"
#include "jobs.hpp"
#include "loop.hpp"
#include "store.hpp"

namespace condenser {

class Containers {
public:
    // Reconciles every record with its shim (loop thread).
    Containers(sdbus::IConnection& connection, Loop& loop, raind::db::Database& database,
               raind::images::Store& store, ShimSettings settings);
    ~Containers(); // stops the watchers; containers keep running
    Containers(const Containers&) = delete;
    Containers& operator=(const Containers&) = delete;

    // Worker threads. `container`: id, unique id prefix or name. Each refreshes the object
    // (posted to the loop) before returning.
    ContainerRecord create(const std::string& image, const std::vector<std::string>& command,
                           const ContainerOptions& options);
    void start(const std::string& container);
    void stop(const std::string& container, unsigned timeout_seconds, std::stop_token stop);
    void kill(const std::string& container, int signal);
    void pause(const std::string& container, bool pause);
    void rename(const std::string& container, const std::string& name);
    std::vector<ProcessInfo> top(const std::string& container);
    std::map<std::string, uint64_t> stats(const std::string& container);
    void remove(const std::string& container, bool force, std::stop_token stop);
    shim::Attached attach(const std::string& container);
    // The read end of a pipe the container's log is streamed to (container_logs.hpp).
    raind::UniqueFd logs(const std::string& container, const LogOptions& options);
    shim::ExecSession exec(const std::string& container, const std::vector<std::string>& command,
                           const ExecOptions& options);

    // Names of the containers made from this image id ("sha256:…"); any thread.
    std::vector<std::string> users_of(const std::string& image_id);

    // Loop thread.
    ContainerObjects& objects() { return objects_; }
    // Calls done(status) on the loop thread once the container has exited (and, with
    // auto-remove, is gone); at once when it has. Throws NoSuchContainer.
    void wait(const std::string& container, std::function<void(int)> done);

private:
    ContainerRecord record_of(const std::string& container);
    std::shared_ptr<std::mutex> lock_for(const std::string& id);
    ContainerView view_of(const ContainerRecord& record);
    void refresh(const std::string& id); // any thread: the loop reads and shows the current view
    void watch(const std::string& id);   // any thread: a watcher for the live shim
    void remove_files(const ContainerRecord& record);
    // Loop thread.
    void apply(const ContainerView& view);
    void removed(const std::string& id, int exit_code);
    void fire_waiters(const std::string& id, int status);

    Loop& loop_;
    raind::db::Database& database_;
    raind::images::Store& store_;
    ShimSettings settings_;
    ContainerObjects objects_;

    std::mutex records_mutex_; // the database handle is shared by the worker threads
    ContainerRecords records_;
    std::mutex locks_mutex_;
    std::map<std::string, std::weak_ptr<std::mutex>> locks_; // one per container being changed

    // Loop thread only.
    std::map<std::string, std::vector<std::function<void(int)>>> waiters_;
    std::map<std::string, int> gone_; // exit codes of auto-removed containers, for late waiters
    std::map<std::string, bool> removing_;

    Jobs jobs_; // last: watchers and removals stop and are joined first
};

} // namespace condenser
