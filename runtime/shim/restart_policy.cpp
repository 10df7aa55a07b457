#include "restart_policy.hpp"

#include <charconv>
#include <string>

#include "error.hpp"

namespace shim {

RestartPolicy parse_restart_policy(std::string_view text) {
    RestartPolicy p;
    if (text == "no" || text.empty())
        return p;
    if (text == "always") {
        p.kind = RestartPolicy::Kind::always;
        return p;
    }
    if (text == "unless-stopped") {
        p.kind = RestartPolicy::Kind::unless_stopped;
        return p;
    }
    constexpr std::string_view on_failure = "on-failure";
    if (text.substr(0, on_failure.size()) == on_failure) {
        p.kind = RestartPolicy::Kind::on_failure;
        std::string_view rest = text.substr(on_failure.size());
        if (rest.empty())
            return p;
        if (rest[0] == ':') {
            std::string_view n = rest.substr(1);
            auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), p.max_retries);
            if (ec == std::errc() && end == n.data() + n.size() && !n.empty() && p.max_retries >= 0)
                return p;
        }
    }
    throw raind::Error("invalid restart policy '" + std::string(text) +
                       "': expected no, on-failure[:N], always or unless-stopped");
}

bool should_restart(const RestartPolicy& policy, int status, int restarts, bool stop_requested) {
    if (stop_requested)
        return false;
    switch (policy.kind) {
    case RestartPolicy::Kind::no:
        return false;
    case RestartPolicy::Kind::on_failure:
        return status != 0 && (policy.max_retries == 0 || restarts < policy.max_retries);
    case RestartPolicy::Kind::always:
    case RestartPolicy::Kind::unless_stopped:
        return true;
    }
    return false;
}

int restart_delay_ms(int restarts) {
    int delay = 100;
    for (int i = 0; i < restarts && delay < 10000; ++i)
        delay *= 2;
    return delay < 10000 ? delay : 10000;
}

} // namespace shim
