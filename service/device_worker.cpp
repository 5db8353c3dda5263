#include "device_worker.hpp"
#include "trueno/thread_name.hpp"

#include <utility>

namespace trueno::service {

DeviceWorker::DeviceWorker() : thread_([this](std::stop_token stop) {
          name_this_thread("tz-device");
          run(stop);
      }) {}

DeviceWorker::~DeviceWorker() {
    stop();
}

void DeviceWorker::post(Job job) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            queue_.push_back(std::move(job));
            changed_.notify_one();
            return;
        }
    }
    job(false);
}

void DeviceWorker::stop() {
    std::deque<Job> cancelled;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        cancelled.swap(queue_);
    }
    thread_.request_stop();
    // Outside the lock: a job's cancellation may answer a caller, which must not wait for us.
    for (auto& job : cancelled) {
        try {
            job(false);
        } catch (...) {
            failures_.note_current("cancelling a job");
        }
    }
    if (thread_.joinable())
        thread_.join(); // the running job finishes first
}

void DeviceWorker::run(std::stop_token stop) noexcept {
    // Nothing may leave the thread: std::terminate would end the daemon holding the machine's
    // swap. A job that throws is counted and logged; the next one runs.
    for (;;) {
        Job job;
        try {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, stop, [&] { return !queue_.empty(); });
            if (stop.stop_requested())
                return; // stop() cancels what is queued
            job = std::move(queue_.front());
            queue_.pop_front();
        } catch (...) {
            failures_.note_current("taking a job");
            return;
        }
        try {
            job(true);
        } catch (...) {
            failures_.note_current("a job");
        }
    }
}

} // namespace trueno::service
