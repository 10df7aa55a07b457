#include "loop.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <algorithm>

#include "error.hpp"

namespace condenser {

Loop::Loop(sdbus::IConnection& connection) : connection_(connection) {
    wakeup_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wakeup_)
        raind::throw_errno("eventfd");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0)
        raind::throw_errno("block SIGTERM and SIGINT");
    signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_)
        raind::throw_errno("signalfd");
}

void Loop::post(std::function<void()> fn) {
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeup_.get(), &one, sizeof one);
}

void Loop::run_posted() {
    uint64_t count;
    [[maybe_unused]] auto n = ::read(wakeup_.get(), &count, sizeof count);
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(posted_);
    }
    for (auto& fn : batch)
        fn();
}

void Loop::run(std::chrono::milliseconds tick_interval, const std::function<void()>& tick) {
    running_ = true;
    auto next_tick = std::chrono::steady_clock::now() + tick_interval;
    while (running_) {
        while (connection_.processPendingRequest()) {
        }
        auto poll_data = connection_.getEventLoopPollData();
        auto until_tick = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick -
                                                                                std::chrono::steady_clock::now());
        int timeout = std::max<int>(0, static_cast<int>(until_tick.count()));
        int bus_timeout = poll_data.getPollTimeout();
        if (bus_timeout >= 0)
            timeout = std::min(timeout, bus_timeout);

        pollfd fds[3] = {{poll_data.fd, poll_data.events, 0},
                         {wakeup_.get(), POLLIN, 0},
                         {signals_.get(), POLLIN, 0}};
        if (::poll(fds, 3, timeout) < 0 && errno != EINTR)
            raind::throw_errno("poll");
        if (fds[1].revents & POLLIN)
            run_posted();
        if (fds[2].revents & POLLIN) {
            signalfd_siginfo info;
            [[maybe_unused]] auto n = ::read(signals_.get(), &info, sizeof info);
            running_ = false;
        }
        if (std::chrono::steady_clock::now() >= next_tick) {
            tick();
            next_tick = std::chrono::steady_clock::now() + tick_interval;
        }
    }
    // Deliver whatever replies are still queued before the connection goes away.
    while (connection_.processPendingRequest()) {
    }
}

} // namespace condenser
