// The CLI's connection to condenser on the system bus, through the generated proxies.
#pragma once

#include <memory>
#include <string>

#include "condenser1-proxy.h"

namespace raind::cli {

class ManagerProxy final : public sdbus::ProxyInterfaces<org::raind::Condenser1::Manager_proxy> {
public:
    ManagerProxy(sdbus::IConnection& connection, std::string destination);
    ~ManagerProxy();
};

class Client {
public:
    // Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS is honoured by sd-bus).
    Client();
    ManagerProxy& manager() { return *manager_; }

private:
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerProxy> manager_;
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
