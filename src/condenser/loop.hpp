// A single-threaded event loop around one sdbus-c++ connection: every bus operation happens on
// this thread; other threads hand work back through post().
#pragma once

#include <sdbus-c++/IConnection.h>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>

#include "fd.hpp"

namespace condenser {

class Loop {
public:
    explicit Loop(sdbus::IConnection& connection);

    // Thread-safe: fn runs on the loop thread.
    void post(std::function<void()> fn);

    // Runs until stop() or a termination signal (SIGTERM, SIGINT). `tick` is called at least
    // every `tick_interval` on the loop thread.
    void run(std::chrono::milliseconds tick_interval, const std::function<void()>& tick);
    void stop() { running_ = false; }

private:
    void run_posted();

    sdbus::IConnection& connection_;
    raind::UniqueFd wakeup_;
    raind::UniqueFd signals_;
    std::mutex mutex_;
    std::deque<std::function<void()>> posted_;
    bool running_ = false;
};

} // namespace condenser
