#include "jobs.hpp"

#include <algorithm>

namespace condenser {

Jobs::~Jobs() {
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
        for (auto& job : running_)
            job->stop.request_stop();
        for (auto& job : waiting_)
            job->stop.request_stop();
    }
    wake_.notify_all();
    for (auto& [id, thread] : threads_)
        thread.join();
}

void Jobs::reap_exited() {
    std::vector<std::thread> done;
    {
        std::lock_guard lock(mutex_);
        for (auto id : exited_) {
            done.push_back(std::move(threads_.at(id)));
            threads_.erase(id);
        }
        exited_.clear();
    }
    for (auto& thread : done)
        thread.join(); // it is past its last use of this object
}

void Jobs::start(std::function<void(std::stop_token)> work) {
    reap_exited();
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::make_shared<Job>(Job{std::move(work), {}}));
    if (parked_ >= waiting_.size()) {
        wake_.notify_one();
        return;
    }
    std::thread thread([this] { serve(); });
    auto id = thread.get_id();
    threads_.emplace(id, std::move(thread));
}

void Jobs::serve() {
    std::unique_lock lock(mutex_);
    while (true) {
        if (waiting_.empty()) {
            if (closing_ || parked_ >= max_parked) {
                exited_.push_back(std::this_thread::get_id());
                return;
            }
            ++parked_;
            wake_.wait(lock, [&] { return closing_ || !waiting_.empty(); });
            --parked_;
            continue;
        }
        auto job = std::move(waiting_.front());
        waiting_.pop_front();
        running_.push_back(job);
        lock.unlock();
        job->work(job->stop.get_token());
        job->work = nullptr; // lets go of what the work held (its activity guard) before parking
        lock.lock();
        running_.erase(std::find(running_.begin(), running_.end(), job));
    }
}

} // namespace condenser
