#include "systemd_client.hpp"

#include <thread>

#include "error.hpp"

namespace raind::test {
namespace {

constexpr const char* destination = "org.freedesktop.systemd1";
constexpr const char* manager_interface = "org.freedesktop.systemd1.Manager";
constexpr auto job_timeout = std::chrono::seconds(20);

} // namespace

SystemdClient::SystemdClient()
    : manager_(sdbus::createProxy(sdbus::createSystemBusConnection(), destination, "/org/freedesktop/systemd1")) {
    // The proxy owns its connection and runs its event loop, so signals arrive
    // while the test thread blocks in a call.
    manager_->uponSignal("JobRemoved")
        .onInterface(manager_interface)
        .call([this](uint32_t, const sdbus::ObjectPath& job, const std::string&, const std::string& result) {
            std::lock_guard lock(mutex_);
            finished_jobs_[job] = result;
            job_done_.notify_all();
        });
    manager_->finishRegistration();
    manager_->callMethod("Subscribe").onInterface(manager_interface);
}

SystemdClient::~SystemdClient() {
    try {
        manager_->callMethod("Unsubscribe").onInterface(manager_interface);
    } catch (const sdbus::Error&) {
        // systemd drops the subscription with the connection anyway
    }
}

std::string SystemdClient::wait_for_job(const sdbus::ObjectPath& job) {
    std::unique_lock lock(mutex_);
    if (!job_done_.wait_for(lock, job_timeout, [&] { return finished_jobs_.count(job) > 0; }))
        throw Error("systemd job " + std::string(job) + " did not finish within 20 s");
    return finished_jobs_[job];
}

std::string SystemdClient::start_transient_unit(const std::string& unit, const UnitProperties& properties) {
    using Aux = std::vector<sdbus::Struct<std::string, UnitProperties>>;
    sdbus::ObjectPath job;
    manager_->callMethod("StartTransientUnit")
        .onInterface(manager_interface)
        .withArguments(unit, std::string("fail"), properties, Aux{})
        .storeResultsTo(job);
    return wait_for_job(job);
}

std::string SystemdClient::start_unit(const std::string& unit) {
    sdbus::ObjectPath job;
    manager_->callMethod("StartUnit").onInterface(manager_interface).withArguments(unit, std::string("replace")).storeResultsTo(job);
    return wait_for_job(job);
}

std::string SystemdClient::stop_unit(const std::string& unit) {
    sdbus::ObjectPath job;
    manager_->callMethod("StopUnit").onInterface(manager_interface).withArguments(unit, std::string("replace")).storeResultsTo(job);
    return wait_for_job(job);
}

std::optional<sdbus::ObjectPath> SystemdClient::find_unit(const std::string& unit) {
    try {
        sdbus::ObjectPath path;
        manager_->callMethod("GetUnit").onInterface(manager_interface).withArguments(unit).storeResultsTo(path);
        return path;
    } catch (const sdbus::Error& e) {
        if (e.getName() == "org.freedesktop.systemd1.NoSuchUnit")
            return std::nullopt;
        throw;
    }
}

bool SystemdClient::wait_unit_gone(const std::string& unit, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (find_unit(unit)) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

bool SystemdClient::wait_for_state(const std::string& unit, const std::string& state,
                                   std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (property_as<std::string>(unit, systemd_unit_interface, "ActiveState") != state) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

sdbus::Variant SystemdClient::property(const std::string& unit, const char* interface, const std::string& name) {
    // LoadUnit, not GetUnit: properties of a unit systemd has not loaded yet (an idle
    // service) are still answerable.
    sdbus::ObjectPath path;
    manager_->callMethod("LoadUnit").onInterface(manager_interface).withArguments(unit).storeResultsTo(path);
    auto object = sdbus::createProxy(manager_->getConnection(), destination, path);
    return object->getProperty(name).onInterface(interface);
}

} // namespace raind::test
