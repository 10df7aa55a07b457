// Worker threads for long operations (pulls, pushes, archives, registry calls): one thread per
// running operation, each with a stop_token; the loop thread stays free to serve the bus.
// Threads are kept parked between operations (a few of them) instead of made anew: on a busy
// machine the scheduler lets a new thread wait longer than a woken one.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace condenser {

class Jobs {
public:
    Jobs() = default;
    // Asks every running job to stop and waits for it.
    ~Jobs();
    Jobs(const Jobs&) = delete;
    Jobs& operator=(const Jobs&) = delete;

    void start(std::function<void(std::stop_token)> work);

private:
    struct Job {
        std::function<void(std::stop_token)> work;
        std::stop_source stop;
    };
    void serve(); // a thread's life: run jobs, park in between
    void reap_exited();

    static constexpr size_t max_parked = 4;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> waiting_;
    std::vector<std::shared_ptr<Job>> running_;
    std::map<std::thread::id, std::thread> threads_;
    std::vector<std::thread::id> exited_;
    size_t parked_ = 0;
    bool closing_ = false;
};

} // namespace condenser
