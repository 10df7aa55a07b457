// The one path every D-Bus method takes: authorize with polkit, then serve, and turn any
// failure into a named error. Handlers stay a few lines each.
#pragma once

#include <memory>
#include <utility>

#include "activity.hpp"
#include "authority.hpp"
#include "errors.hpp"
#include "error.hpp"

namespace condenser {

template <typename... Results, typename Serve>
void serve_authorized(sdbus::IObject& object, Authority& authority, Activity& activity, const std::string& action,
                      const std::map<std::string, std::string>& details, sdbus::Result<Results...>&& result,
                      Serve serve) {
    auto reply = std::make_shared<sdbus::Result<Results...>>(std::move(result));
    authority.check(current_caller(object), action, details,
                    [reply, serve = std::move(serve), guard = activity.begin()](std::optional<sdbus::Error> denied) {
                        if (denied)
                            return reply->returnError(*denied);
                        try {
                            serve(*reply);
                        } catch (const sdbus::Error& e) {
                            reply->returnError(e);
                        } catch (const std::exception& e) {
                            reply->returnError(errors::make(errors::internal, e.what()));
                        }
                    });
}

} // namespace condenser
