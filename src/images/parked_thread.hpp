// A task on one of a few threads kept parked for reuse, joined like a std::jthread. A pull runs
// its layer downloads and unpackers on these: on a busy machine the scheduler lets a new thread
// wait longer than a woken one, and a pull would otherwise start two per layer.
#pragma once

#include <functional>
#include <future>

namespace raind::images {

class ParkedTask {
public:
    // Runs `work` on a parked thread (a new one when none is free). Exceptions `work` lets out
    // are rethrown by join().
    explicit ParkedTask(std::function<void()> work);
    ParkedTask(ParkedTask&&) noexcept = default;
    ParkedTask& operator=(ParkedTask&&) = delete;
    // Waits for the task (it may use what the caller's scope holds); never throws.
    ~ParkedTask();

    void join();

private:
    std::future<void> done_;
};

} // namespace raind::images
