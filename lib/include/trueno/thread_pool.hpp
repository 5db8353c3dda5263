// A small fixed pool of worker threads for batch compression.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trueno {

class ThreadPool {
public:
    // threads == 0 means one per CPU.
    explicit ThreadPool(unsigned threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    unsigned size() const { return static_cast<unsigned>(workers_.size()); }

    // Runs fn(i) for every i in [0, count) on the pool (the caller's thread helps) and waits
    // for all of them. fn must not throw.
    void parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn);

private:
    void worker_loop();

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable work_done_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t job_count_ = 0;
    std::size_t next_index_ = 0;
    std::size_t active_ = 0;
    std::uint64_t generation_ = 0;
    bool stopping_ = false;
};

} // namespace trueno
