// The one path every D-Bus method takes: authorize with polkit, then serve, and turn any
// failure into a named error. Handlers stay a few lines each.
#pragma once

#include <memory>
#include <tuple>
#include <utility>

#include "activity.hpp"
#include "authority.hpp"
#include "errors.hpp"
#include "jobs.hpp"
#include "loop.hpp"

namespace condenser {

// Serves on the loop thread once polkit said yes: for quick calls.
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
                        } catch (...) {
                            reply->returnError(errors::from_exception(std::current_exception()));
                        }
                    });
}

// Where a long call runs and reports: the loop it replies on, its worker threads, and what
// runs on the loop thread before every reply (keeping the image objects in step with the store).
struct AsyncContext {
    Loop& loop;
    Jobs& jobs;
    std::function<void()> before_reply;
};

// Runs work(stop_token) -> std::tuple<Results...> on a worker thread once polkit said yes, then
// replies on the loop thread. The activity guard is held until the reply is sent, so the
// daemon never exits idle under a running pull. sd-bus objects are not thread-safe, reference
// counts included: the reply is handed back to the loop before the worker lets go of it, and
// `work` must not hold bus messages (parse a{sv} options on the loop thread first).
template <typename... Results, typename Work>
void serve_authorized_async(sdbus::IObject& object, Authority& authority, Activity& activity, AsyncContext context,
                            const std::string& action, const std::map<std::string, std::string>& details,
                            sdbus::Result<Results...>&& result, Work work) {
    auto reply = std::make_shared<sdbus::Result<Results...>>(std::move(result));
    authority.check(
        current_caller(object), action, details,
        [reply, context, work = std::move(work), guard = activity.begin()](std::optional<sdbus::Error> denied) {
            if (denied)
                return reply->returnError(*denied);
            context.jobs.start([reply, context, work, guard](std::stop_token stop) mutable {
                std::shared_ptr<std::tuple<Results...>> results;
                std::optional<sdbus::Error> error;
                try {
                    results = std::make_shared<std::tuple<Results...>>(work(stop));
                } catch (...) {
                    error = errors::from_exception(std::current_exception());
                }
                context.loop.post([reply = std::move(reply), context, results, error, guard] {
                    if (context.before_reply)
                        context.before_reply();
                    if (error)
                        return reply->returnError(*error);
                    std::apply([&](const auto&... values) { reply->returnResults(values...); }, *results);
                });
            });
        });
}

} // namespace condenser
