// One thread per device for the attribute writes that take long (compact, idle): they run here,
// one at a time in the order written, so the control thread and the device manager's lock are
// free meanwhile. Jobs still queued when the device goes are cancelled, never run.
#pragma once

#include "trueno/background_failures.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace trueno::service {

class DeviceWorker {
public:
    // Called once: with true on the worker to do the work, or with false (on the thread that
    // stops the worker) when it will not run.
    using Job = std::function<void(bool run)>;

    DeviceWorker();
    ~DeviceWorker(); // stop()
    DeviceWorker(const DeviceWorker&) = delete;
    DeviceWorker& operator=(const DeviceWorker&) = delete;

    // Queues a job; once stop() has begun it is cancelled at once instead.
    void post(Job job);
    // Cancels every queued job, lets the running one finish, and joins the thread. Idempotent.
    void stop();

    // Jobs that threw (each is logged at most every few seconds; the worker carries on).
    std::uint64_t failures() const { return failures_.count(); }

private:
    void run(std::stop_token stop) noexcept;

    std::mutex mutex_;
    std::condition_variable_any changed_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    BackgroundFailures failures_{"device worker"};
    std::jthread thread_; // last: joined before the members above go
};

} // namespace trueno::service
