// The CLI's connection to condenser on the system bus, through the generated proxies.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>

#include "condenser1-proxy.h"

namespace raind::cli {

class ManagerProxy final : public sdbus::ProxyInterfaces<org::raind::Condenser1::Manager_proxy> {
public:
    ManagerProxy(sdbus::IConnection& connection, std::string destination);
    ~ManagerProxy();

    // ImageProgress signals, delivered on the connection's event thread (Client::watch_signals).
    using Progress = std::function<void(const std::string& reference, const std::string& event,
                                        const std::string& digest, uint64_t current, uint64_t total)>;
    void on_progress(Progress progress) { progress_ = std::move(progress); }

    // A call to a long method (pull, push, save, load) without D-Bus's default 25 s reply timeout.
    // Read the results with `reply >> a >> b`. Sent asynchronously and awaited: a blocking
    // sd_bus_call would read the call's progress signals off the socket itself and hold them
    // back until the reply, so bars would only move at the end. Needs Client::watch_signals().
    template <typename... In>
    sdbus::MethodReply call_long(const std::string& method, const In&... in) {
        auto call = getProxy().createMethodCall(INTERFACE_NAME, method);
        (call << ... << in);
        return await(call);
    }
    // WaitContainer sent now, answered whenever the container exits. Needs Client::watch_signals().
    std::future<int32_t> wait_async(const std::string& container);
    static constexpr uint64_t long_call_timeout_usec = 24ULL * 3600 * 1000 * 1000;
    static constexpr const char* service = "org.raind.Condenser1";
    static constexpr const char* path = "/org/raind/Condenser1";

private:
    void onImageProgress(const std::string& reference, const std::string& event, const std::string& digest,
                         const uint64_t& current, const uint64_t& total) override;
    sdbus::MethodReply await(sdbus::MethodCall& call);
    Progress progress_;
};

class Client {
public:
    // Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS is honoured by sd-bus).
    Client();
    ~Client(); // stops the signal thread before the proxy goes away
    ManagerProxy& manager() { return *manager_; }
    // Starts dispatching signals on a thread of the connection; calls still work from this one.
    void watch_signals();

private:
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerProxy> manager_;
    bool watching_ = false;
};

// One line a person can act on for an error from the bus ("not authorized to …").
std::string describe(const sdbus::Error& error);

// Exit statuses scripts can rely on.
enum Exit : int {
    exit_ok = 0,
    exit_failed = 1,        // condenser refused or failed the request
    exit_usage = 2,         // bad command line
    exit_denied = 77,       // not authorized (polkit said no)
    exit_unavailable = 69,  // condenser or the bus cannot be reached
};
int exit_status(const sdbus::Error& error);

} // namespace raind::cli
