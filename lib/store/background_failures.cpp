#include "trueno/background_failures.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

namespace trueno {

namespace {
constexpr std::chrono::seconds kLogInterval{5};
} // namespace

void BackgroundFailures::note_current(const char* what_failed) noexcept {
    const std::uint64_t total = count_.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t last = last_log_ns_.load(std::memory_order_relaxed);
    if (last != 0 && now - last < std::chrono::nanoseconds(kLogInterval).count())
        return;
    // One thread wins the right to log this interval.
    if (!last_log_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed))
        return;
    const char* reason = "not a std::exception";
    if (const std::exception_ptr current = std::current_exception()) {
        try {
            std::rethrow_exception(current);
        } catch (const std::exception& e) {
            reason = e.what();
        } catch (...) {
        }
    }
    try {
        spdlog::warn("{}: {} failed: {} ({} failures so far); trying again later", thread_,
                     what_failed, reason, total);
    } catch (...) {
        // Logging needs memory too; the count above still says it happened.
    }
}

} // namespace trueno
