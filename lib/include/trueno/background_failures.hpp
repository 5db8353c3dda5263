// Failures of a background thread of the store (refiller, recompressor): such a thread must not
// end the process (an exception leaving its entry calls std::terminate and takes the machine's
// swap with it), so it catches what a pass throws, reports it here and carries on.
#pragma once

#include <atomic>
#include <cstdint>

namespace trueno {

// Counts every failure; logs at most one line per kLogInterval, since a thread that fails every
// period (memory exhausted) must not also allocate a log line every period.
class BackgroundFailures {
public:
    // `thread` names the thread in the log (a string literal: it is kept, not copied).
    explicit BackgroundFailures(const char* thread) noexcept : thread_(thread) {}

    // Call from a catch block: counts the exception being handled and maybe logs it with
    // `what_failed`. Never throws.
    void note_current(const char* what_failed) noexcept;
    // Failures since the thread's owner was made.
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    const char* thread_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::int64_t> last_log_ns_{0}; // steady clock; 0: never logged
};

} // namespace trueno
