#include "jobs.hpp"

namespace condenser {

Jobs::~Jobs() {
    std::list<Job> all;
    {
        std::lock_guard lock(mutex_);
        all.swap(jobs_);
    }
    for (auto& job : all)
        job.thread.request_stop();
    all.clear(); // jthread joins
}

void Jobs::reap_finished() {
    std::list<Job> done;
    {
        std::lock_guard lock(mutex_);
        for (auto it = jobs_.begin(); it != jobs_.end();) {
            auto next = std::next(it);
            if (it->finished)
                done.splice(done.end(), jobs_, it);
            it = next;
        }
    }
    done.clear();
}

void Jobs::start(std::function<void(std::stop_token)> work) {
    reap_finished();
    std::lock_guard lock(mutex_);
    Job& job = jobs_.emplace_back();
    job.thread = std::jthread([this, &job, work = std::move(work)](std::stop_token stop) {
        work(stop);
        std::lock_guard lock(mutex_);
        job.finished = true;
    });
}

} // namespace condenser
