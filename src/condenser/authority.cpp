#include "authority.hpp"

#include "errors.hpp"

namespace condenser {
namespace {

constexpr const char* polkit_service = "org.freedesktop.PolicyKit1";
constexpr const char* polkit_path = "/org/freedesktop/PolicyKit1/Authority";
constexpr const char* polkit_interface = "org.freedesktop.PolicyKit1.Authority";
constexpr uint32_t allow_user_interaction = 1;

using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
using AuthorizationResult = sdbus::Struct<bool, bool, std::map<std::string, std::string>>;

} // namespace

Caller current_caller(sdbus::IObject& object) {
    const sdbus::Message* message = object.getCurrentlyProcessedMessage();
    Caller caller;
    if (message) {
        caller.bus_name = message->getSender();
        caller.uid = message->getCredsUid();
    }
    return caller;
}

Authority::Authority(sdbus::IConnection& connection)
    : polkit_(sdbus::createProxy(connection, polkit_service, polkit_path)) {
    polkit_->finishRegistration();
}

void Authority::check(const Caller& caller, const std::string& action,
                      const std::map<std::string, std::string>& details, Done done) {
    if (caller.uid == 0) {
        done(std::nullopt);
        return;
    }
    Subject subject{"system-bus-name", {{"name", sdbus::Variant(caller.bus_name)}}};
    polkit_->callMethodAsync("CheckAuthorization")
        .onInterface(polkit_interface)
        .withArguments(subject, action, details, allow_user_interaction, std::string())
        .uponReplyInvoke([done = std::move(done), action](const sdbus::Error* error, AuthorizationResult result) {
            if (error) {
                done(errors::make(errors::permission_denied,
                                  "cannot check authorization for " + action + " with polkit: " + error->getMessage()));
                return;
            }
            bool authorized = result.get<0>();
            bool challenge = result.get<1>();
            if (authorized) {
                done(std::nullopt);
                return;
            }
            done(errors::make(errors::permission_denied,
                              challenge ? "not authorized to " + action + ": authentication is required"
                                        : "not authorized to " + action +
                                              " (ask an administrator to add you to the group raind)"));
        });
}

} // namespace condenser
