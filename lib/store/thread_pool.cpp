#include "trueno/thread_pool.hpp"
#include "trueno/thread_name.hpp"

#include <algorithm>

namespace trueno {

ThreadPool::ThreadPool(unsigned threads) {
    const unsigned count = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
    workers_.reserve(count);
    for (unsigned i = 0; i < count; ++i) workers_.emplace_back([this] {
            name_this_thread("tz-pool");
            worker_loop();
        });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& worker : workers_) worker.join();
}

void ThreadPool::parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn) {
    if (count == 0) return;
    std::unique_lock lock(mutex_);
    // One job at a time: a second caller waits for the first to finish.
    work_done_.wait(lock, [this] { return job_ == nullptr; });
    job_ = &fn;
    job_count_ = count;
    next_index_ = 0;
    active_ = 0;
    ++generation_;
    work_ready_.notify_all();
    // The caller works too.
    while (next_index_ < job_count_) {
        const std::size_t index = next_index_++;
        ++active_;
        lock.unlock();
        fn(index);
        lock.lock();
        --active_;
    }
    work_done_.wait(lock, [this] { return active_ == 0; });
    job_ = nullptr;
    work_done_.notify_all();
}

void ThreadPool::worker_loop() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
        work_ready_.wait(lock, [&] { return stopping_ || (job_ != nullptr && generation_ != seen); });
        if (stopping_) return;
        seen = generation_;
        const auto* job = job_;
        while (job_ == job && generation_ == seen && next_index_ < job_count_) {
            const std::size_t index = next_index_++;
            ++active_;
            lock.unlock();
            (*job)(index);
            lock.lock();
            if (--active_ == 0 && next_index_ >= job_count_) work_done_.notify_all();
        }
    }
}

} // namespace trueno
