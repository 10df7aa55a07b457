// Counts requests in flight so the daemon exits when idle without dropping one.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace condenser {

class Activity {
public:
    using Clock = std::chrono::steady_clock;

    // Held for as long as a request is being served (across async polkit checks and
    // worker threads); copies share one count.
    using Guard = std::shared_ptr<void>;
    Guard begin();

    bool busy() const { return in_flight_.load() > 0; }
    Clock::duration idle_for() const;

private:
    std::atomic<int> in_flight_{0};
    std::atomic<Clock::rep> last_{Clock::now().time_since_epoch().count()};
};

} // namespace condenser
