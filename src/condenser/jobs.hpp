// Worker threads for long operations (pulls, pushes, archives, registry calls): one thread per
// operation, each with a stop_token; the loop thread stays free to serve the bus.
#pragma once

#include <functional>
#include <list>
#include <mutex>
#include <stop_token>
#include <thread>

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
    void reap_finished();

    std::mutex mutex_;
    struct Job {
        std::jthread thread;
        bool finished = false;
    };
    std::list<Job> jobs_;
};

} // namespace condenser
