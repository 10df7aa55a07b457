// Docker's restart policies: no | on-failure[:N] | always | unless-stopped.
#pragma once

#include <string_view>

namespace shim {

struct RestartPolicy {
    enum class Kind { no, on_failure, always, unless_stopped };
    Kind kind = Kind::no;
    int max_retries = 0; // on-failure:N; 0 means unlimited
};

// Throws raind::Error naming the bad text.
RestartPolicy parse_restart_policy(std::string_view text);

// Whether the container is started again after exiting with `status` (code, or 128+signal),
// having been restarted `restarts` times. An explicit stop always wins. always and
// unless-stopped only differ for a daemon that starts again after a stop, which the shim never sees.
bool should_restart(const RestartPolicy& policy, int status, int restarts, bool stop_requested);

// The wait before restart number `restarts` + 1: 100 ms doubling, at most 10 s (Docker's curve).
int restart_delay_ms(int restarts);

} // namespace shim
