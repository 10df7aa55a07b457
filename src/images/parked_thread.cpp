#include "parked_thread.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace raind::images {

namespace {

// Never destroyed: parked threads wait on it until the process ends. Every task has been joined
// by then (ParkedTask waits), so no thread runs anything the exit tears down.
class Pool {
public:
    void run(std::packaged_task<void()> task) {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
        if (parked_ >= tasks_.size())
            wake_.notify_one();
        else
            try {
                std::thread([this] { serve(); }).detach();
            } catch (...) {
                tasks_.pop_back(); // nobody would run it; the caller learns why
                throw;
            }
    }

private:
    void serve() {
        std::unique_lock lock(mutex_);
        while (true) {
            if (tasks_.empty()) {
                if (parked_ >= max_parked)
                    return;
                ++parked_;
                wake_.wait(lock, [&] { return !tasks_.empty(); });
                --parked_;
                continue;
            }
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task(); // exceptions go to the task's future
            task = {};
            lock.lock();
        }
    }

    static constexpr size_t max_parked = 8;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::packaged_task<void()>> tasks_;
    size_t parked_ = 0;
};

Pool& pool() {
    static Pool* p = new Pool;
    return *p;
}

} // namespace

ParkedTask::ParkedTask(std::function<void()> work) {
    std::packaged_task<void()> task(std::move(work));
    done_ = task.get_future();
    pool().run(std::move(task));
}

ParkedTask::~ParkedTask() {
    if (done_.valid())
        done_.wait();
}

void ParkedTask::join() {
    if (done_.valid())
        done_.get();
}

} // namespace raind::images
