// The systemd manager over the system bus, the way raind's own code will drive it:
// subscribe to JobRemoved first, then call, then wait for the job.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace raind::test {

using UnitProperties = std::vector<sdbus::Struct<std::string, sdbus::Variant>>;

inline constexpr const char* systemd_unit_interface = "org.freedesktop.systemd1.Unit";
inline constexpr const char* systemd_scope_interface = "org.freedesktop.systemd1.Scope";
inline constexpr const char* systemd_service_interface = "org.freedesktop.systemd1.Service";
inline constexpr const char* systemd_socket_interface = "org.freedesktop.systemd1.Socket";

class SystemdClient {
public:
    SystemdClient();
    ~SystemdClient();
    SystemdClient(const SystemdClient&) = delete;
    SystemdClient& operator=(const SystemdClient&) = delete;

    // Each returns the job's result ("done", "failed", "canceled", ...) once it is
    // finished; D-Bus errors of the call itself are thrown as sdbus::Error.
    std::string start_transient_unit(const std::string& unit, const UnitProperties& properties);
    std::string start_unit(const std::string& unit);
    std::string stop_unit(const std::string& unit);

    // The unit's object path while systemd has the unit loaded.
    std::optional<sdbus::ObjectPath> find_unit(const std::string& unit);
    // True once systemd has unloaded the unit (garbage-collected), within `timeout`.
    bool wait_unit_gone(const std::string& unit, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Polls ActiveState until it is `state`; false if it is not within `timeout`.
    bool wait_for_state(const std::string& unit, const std::string& state,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

    sdbus::Variant property(const std::string& unit, const char* interface, const std::string& name);
    template <class T>
    T property_as(const std::string& unit, const char* interface, const std::string& name) {
        return property(unit, interface, name).get<T>();
    }

private:
    std::string wait_for_job(const sdbus::ObjectPath& job);

    std::unique_ptr<sdbus::IProxy> manager_;
    std::mutex mutex_;
    std::condition_variable job_done_;
    std::map<std::string, std::string> finished_jobs_; // job path -> result
};

} // namespace raind::test
