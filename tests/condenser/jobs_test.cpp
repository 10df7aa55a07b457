// Jobs: long operations run at once, each on its own thread, threads are reused, and going
// away stops and waits for what still runs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>

#include "jobs.hpp"

using namespace std::chrono_literals;

TEST(Jobs, RunConcurrentlyAndReuseParkedThreads) {
    condenser::Jobs jobs;
    // Two jobs that each wait for the other: they finish only if they run at the same time.
    std::latch both(2);
    std::promise<std::thread::id> first_thread, second_thread;
    jobs.start([&](std::stop_token) {
        both.arrive_and_wait();
        first_thread.set_value(std::this_thread::get_id());
    });
    jobs.start([&](std::stop_token) {
        both.arrive_and_wait();
        second_thread.set_value(std::this_thread::get_id());
    });
    auto f = first_thread.get_future(), g = second_thread.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    ASSERT_EQ(g.wait_for(5s), std::future_status::ready);
    std::thread::id a = f.get(), b = g.get();
    EXPECT_NE(a, b);
    std::this_thread::sleep_for(50ms); // both threads park

    // The next job runs on one of the parked threads, not on a new one.
    std::promise<std::thread::id> third;
    jobs.start([&](std::stop_token) { third.set_value(std::this_thread::get_id()); });
    auto t = third.get_future();
    ASSERT_EQ(t.wait_for(5s), std::future_status::ready);
    std::thread::id c = t.get();
    EXPECT_TRUE(c == a || c == b);
}

TEST(Jobs, GoingAwayStopsRunningJobsAndWaits) {
    std::atomic<bool> stopped{false}, finished{false};
    {
        condenser::Jobs jobs;
        std::latch started(1);
        jobs.start([&](std::stop_token stop) {
            started.count_down();
            while (!stop.stop_requested())
                std::this_thread::sleep_for(1ms);
            stopped = true;
            std::this_thread::sleep_for(20ms);
            finished = true;
        });
        started.wait();
    }
    EXPECT_TRUE(stopped);
    EXPECT_TRUE(finished); // waited for, not abandoned
}

TEST(Jobs, TheWorkIsReleasedWhenItEnds) {
    // What a job's work holds (condenser's activity guard) must go when the job ends, not when
    // its thread next runs something.
    condenser::Jobs jobs;
    auto held = std::make_shared<int>(1);
    std::weak_ptr<int> watch = held;
    std::promise<void> ran;
    jobs.start([held = std::move(held), &ran](std::stop_token) { ran.set_value(); });
    ran.get_future().wait();
    for (int i = 0; i < 500 && !watch.expired(); ++i)
        std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(watch.expired());
}
