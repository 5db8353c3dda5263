// Queue threads started ahead, each with its stack resident and its ring made, waiting to serve
// a queue: a standby keeps one for every queue it will take over, so that the take-over starts
// no thread and makes no ring at the moment memory may be gone.
//
// Why: io_uring_setup allocates a depth-128 queue's SQE array and CQ ring as order-2 pages,
// retried without limit (Linux 6.12: io_pages_map has no __GFP_NORETRY), and a new thread's
// task_struct may need an order-2 slab. The daemon's threads are I/O flushers: for their
// allocations the kernel neither compacts memory nor OOM-kills, it retries. At a take-over the
// swap device's server is dead, nothing can be reclaimed, and free memory can be too fragmented
// for one order-2 block (kill-loop at 256 MB: the take-over waited for good about once in five
// runs, with free memory above the watermark).
#pragma once

#include "queue_ring.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace trueno::ublk {

class SpareQueueThreads {
public:
    // Runs on the spare's thread with its ring (status() may say the ring could not be made:
    // the job makes its own then).
    using Job = std::function<void(QueueRing)>;

    SpareQueueThreads() = default;
    ~SpareQueueThreads(); // ends the spares not handed out
    SpareQueueThreads(const SpareQueueThreads&) = delete;
    SpareQueueThreads& operator=(const SpareQueueThreads&) = delete;

    // Holds, for each ring size (entries -> count), exactly that many spares: starts the missing
    // ones (their rings are made on their own threads, without waiting for them here) and ends
    // the others. An empty map ends them all. Never throws; a spare that cannot start is logged.
    void keep(const std::map<unsigned, unsigned>& wanted);
    // Hands `job` to a spare whose ring has `entries` entries and is made, and gives its thread
    // to the caller (who joins it: it ends when the job returns). nullopt, with `job` untouched,
    // when there is none.
    std::optional<std::thread> run(unsigned entries, Job& job);
    // Waits until every spare is ready, at most `patience`; false if some are not by then.
    bool wait_ready(std::chrono::milliseconds patience) const;
    // Spares ready (thread waiting, ring made) for rings of `entries`.
    std::size_t ready(unsigned entries) const;
    std::size_t size() const;

private:
    struct Handoff {
        std::mutex mutex;
        std::condition_variable changed;
        bool prepared = false; // the thread waits, its stack resident and its ring made (or failed)
        bool cancelled = false;
        Job job;
    };
    struct Spare {
        unsigned entries = 0;
        std::thread thread;
        std::shared_ptr<Handoff> handoff;
    };
    static void spare_main(std::shared_ptr<Handoff> handoff, unsigned entries);
    static void end(Spare& spare);

    mutable std::mutex mutex_;
    std::vector<Spare> spares_;
};

} // namespace trueno::ublk
