// polkit authorization for D-Bus callers, asynchronous so a pending check never stalls the bus.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace condenser {

// Who sent the message being handled: captured synchronously inside a handler,
// because the message is gone once the handler returns.
struct Caller {
    std::string bus_name; // unique name (":1.42")
    uid_t uid = static_cast<uid_t>(-1);
};
Caller current_caller(sdbus::IObject& object);

class Authority {
public:
    explicit Authority(sdbus::IConnection& connection);

    // Calls done(std::nullopt) when `caller` may perform `action` (an id from
    // polkit/org.raind.condenser.policy), else done(error) with a named D-Bus error.
    // uid 0 passes without asking polkit. `details` reach the polkit agent and rules
    // (image ref, container id, verb).
    using Done = std::function<void(std::optional<sdbus::Error>)>;
    void check(const Caller& caller, const std::string& action, const std::map<std::string, std::string>& details,
               Done done);

private:
    std::unique_ptr<sdbus::IProxy> polkit_;
};

} // namespace condenser
