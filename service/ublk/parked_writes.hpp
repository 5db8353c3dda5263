// The writes of one ublk queue that found the store's populated reserve empty, waiting for its
// refill thread. A queue thread that slept in place for them served nothing else meanwhile:
// swap-ins (reads) on the same queue waited for the refiller too, which under memory pressure
// may sit in the kernel's reclaim throttle for a second at a time. Parked, a write keeps its
// tag uncommitted (the kernel holds its data) and the queue serves on.
//
// Contract:
//   - park() keeps writes in arrival order; it never allocates (capacity is the queue's depth,
//     reserved at construction: at most one write per tag).
//   - due(progress, now) is true when the store's reserve_progress() differs from what the last
//     try saw (the refiller published memory), or kRetryPeriod has passed since that try
//     (discards free slots without it); a try is not free: a failed allocation waits a few ms.
//   - retry() tries the oldest first, each from the bytes it had stored, and stops at the first
//     that still needs memory (keeping how far it got): the later ones would find none either.
//     Each one that finished (stored, or failed for another reason) is handed to `finish` with
//     its result and leaves. Then every write whose deadline has passed leaves with -ENOSPC
//     (the kernel keeps the page and writes it again). Returns how many left that way.
#pragma once

#include "request_handler.hpp"

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace trueno::ublk {

class ParkedWrites {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr auto kRetryPeriod = std::chrono::milliseconds(20);

    struct Write {
        unsigned tag = 0;
        std::uint64_t bytes_done = 0; // stored so far, from the request's start
        Clock::time_point deadline;
    };

    explicit ParkedWrites(std::size_t capacity) { writes_.reserve(capacity); }

    bool empty() const { return writes_.empty(); }
    std::size_t size() const { return writes_.size(); }
    const std::vector<Write>& writes() const { return writes_; }

    // The first write parked since the queue was empty starts the clock of due() at `progress`.
    void park(const Write& write, std::uint64_t progress, Clock::time_point now) {
        if (writes_.empty()) {
            progress_seen_ = progress;
            last_try_ = now;
        }
        writes_.push_back(write);
    }

    bool due(std::uint64_t progress, Clock::time_point now) const {
        return progress != progress_seen_ || now - last_try_ >= kRetryPeriod;
    }

    // attempt(const Write&) -> Attempt; finish(const Write&, int result); now() -> time_point.
    template <typename AttemptFn, typename FinishFn, typename NowFn>
    std::size_t retry(std::uint64_t progress, AttemptFn&& attempt, FinishFn&& finish, NowFn&& now) {
        progress_seen_ = progress;
        last_try_ = now();
        std::size_t finished = 0;
        for (; finished < writes_.size(); ++finished) {
            Write& write = writes_[finished];
            const Attempt outcome = attempt(write);
            if (outcome.needs_memory) {
                write.bytes_done = outcome.bytes_done;
                break;
            }
            finish(write, outcome.result);
        }
        writes_.erase(writes_.begin(), writes_.begin() + static_cast<std::ptrdiff_t>(finished));
        return expire(now(), finish);
    }

    // Only the deadlines (between tries).
    template <typename FinishFn> std::size_t expire(Clock::time_point now, FinishFn&& finish) {
        return std::erase_if(writes_, [&](const Write& write) {
            if (write.deadline > now)
                return false;
            finish(write, -ENOSPC);
            return true;
        });
    }

private:
    std::vector<Write> writes_; // oldest first
    std::uint64_t progress_seen_ = 0;
    Clock::time_point last_try_;
};

} // namespace trueno::ublk
