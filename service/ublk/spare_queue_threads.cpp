#include "spare_queue_threads.hpp"

#include "stack_prefault.hpp"
#include "trueno/thread_name.hpp"

#include <algorithm>
#include <exception>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

namespace trueno::ublk {

SpareQueueThreads::~SpareQueueThreads() {
    keep({});
}

void SpareQueueThreads::spare_main(std::shared_ptr<Handoff> handoff, unsigned entries) {
    name_this_thread("tz-spare-queue");
    // Made while the serving daemon lives and swap works: this thread may reclaim with I/O (and
    // the kernel may compact for the ring's order-2 pages). The job makes itself an I/O flusher.
    (void)prctl(PR_SET_IO_FLUSHER, 0, 0, 0, 0);
    prefault_stack();
    QueueRing ring(entries);
    Job job;
    {
        std::unique_lock lock(handoff->mutex);
        handoff->prepared = true;
        handoff->changed.notify_all();
        handoff->changed.wait(lock, [&] { return handoff->cancelled || handoff->job; });
        if (!handoff->job)
            return;
        job = std::move(handoff->job);
    }
    try {
        job(std::move(ring));
    } catch (const std::exception& e) { // a job's own failures are its to report; never past here
        spdlog::error("a queue thread failed: {}", e.what());
    } catch (...) {
        spdlog::error("a queue thread failed");
    }
}

void SpareQueueThreads::end(Spare& spare) {
    bool prepared = false;
    {
        std::lock_guard lock(spare.handoff->mutex);
        spare.handoff->cancelled = true;
        prepared = spare.handoff->prepared;
        spare.handoff->changed.notify_all();
    }
    // One still making its ring may wait for memory: it ends by itself once it has it.
    if (prepared)
        spare.thread.join();
    else
        spare.thread.detach();
}

void SpareQueueThreads::keep(const std::map<unsigned, unsigned>& wanted) {
    std::lock_guard lock(mutex_);
    std::map<unsigned, unsigned> have;
    std::vector<Spare> kept;
    for (auto& spare : spares_) {
        const auto it = wanted.find(spare.entries);
        if (it != wanted.end() && have[spare.entries] < it->second) {
            ++have[spare.entries];
            kept.push_back(std::move(spare));
        } else {
            end(spare);
        }
    }
    spares_ = std::move(kept);
    for (const auto& [entries, count] : wanted) {
        for (unsigned n = have[entries]; n < count; ++n) {
            try {
                Spare spare;
                spare.entries = entries;
                spare.handoff = std::make_shared<Handoff>();
                spare.thread = std::thread(spare_main, spare.handoff, entries);
                spares_.push_back(std::move(spare));
            } catch (const std::exception& e) {
                spdlog::warn("cannot start a spare queue thread ({}): a take-over starts its own",
                             e.what());
                return;
            }
        }
    }
}

std::optional<std::thread> SpareQueueThreads::run(unsigned entries, Job& job) {
    std::lock_guard lock(mutex_);
    for (auto it = spares_.begin(); it != spares_.end(); ++it) {
        if (it->entries != entries)
            continue;
        const std::shared_ptr<Handoff> handoff = it->handoff;
        {
            std::lock_guard handoff_lock(handoff->mutex);
            if (!handoff->prepared)
                continue;
            handoff->job = std::move(job);
            handoff->changed.notify_all();
        }
        std::thread thread = std::move(it->thread);
        spares_.erase(it);
        return thread;
    }
    return std::nullopt;
}

bool SpareQueueThreads::wait_ready(std::chrono::milliseconds patience) const {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    std::vector<std::shared_ptr<Handoff>> handoffs;
    {
        std::lock_guard lock(mutex_);
        for (const auto& spare : spares_)
            handoffs.push_back(spare.handoff);
    }
    for (const auto& handoff : handoffs) {
        std::unique_lock lock(handoff->mutex);
        if (!handoff->changed.wait_until(lock, deadline, [&] { return handoff->prepared; }))
            return false;
    }
    return true;
}

std::size_t SpareQueueThreads::ready(unsigned entries) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(spares_.begin(), spares_.end(), [&](const Spare& s) {
            std::lock_guard handoff_lock(s.handoff->mutex);
            return s.entries == entries && s.handoff->prepared;
        }));
}

std::size_t SpareQueueThreads::size() const {
    std::lock_guard lock(mutex_);
    return spares_.size();
}

} // namespace trueno::ublk
