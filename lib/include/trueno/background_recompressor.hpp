// One low-priority worker thread per device that does all of its recompression: the one-off
// runs the recompress attribute asks for, and the automatic policy (every interval: mark pages
// idle, recompress them with a named policy's codec under a page rate and a CPU budget,
// compact, retrain the dictionary when the ratio drifts). Serialising both on one thread means
// the store never runs two recompressions at once, and neither ever runs on an I/O thread or
// on the control thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "trueno/background_failures.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"

namespace trueno {

// The automatic policy's settings; the defaults are what "NAME" alone means.
struct BackgroundPolicy {
    std::string policy = "balanced";      // a name of recompress_policies()
    std::uint64_t age_seconds = 3600;     // pages untouched this long are idle (0: every page)
    std::uint64_t interval_seconds = 600; // from the end of one pass to the start of the next
    std::uint64_t rate_pages = 2000;      // pages tried per second at most (0: no limit)
    unsigned cpu_percent = 10;            // of one core, 1..100, enforced by sleeping after work
    unsigned priority = kMaxRecompPriority; // the recomp_algorithm slot the policy uses
    RecompressOptions::Type type = RecompressOptions::Type::idle; // idle or huge_idle

    bool operator==(const BackgroundPolicy&) const = default;
};

// "off", or "NAME [age=S] [interval=S] [rate=N] [cpu=P] [priority=N] [type=idle|huge_idle]".
// nullopt means off. EINVAL with the reason for anything else.
Result<std::optional<BackgroundPolicy>> parse_background_policy(std::string_view text);
// The text parse_background_policy reads back to the same settings ("off" for none).
std::string format_background_policy(const std::optional<BackgroundPolicy>& policy);

// What one automatic pass did.
struct BackgroundPass {
    std::uint64_t number = 0;       // 1 for the first pass since the policy was set
    std::uint64_t marked_idle = 0;  // pages mark_idle found old enough
    RecompressReport report;        // summed over the pass's batches; cpu_seconds is the pass's
    double seconds = 0;             // wall time, sleeps for the rate and CPU budget included
    double ratio_before = 0;        // orig_data_size / mem_used_total before the pass
    double ratio_after = 0;         // ... after it (compaction included)
    bool retrained = false;         // a new dictionary generation was trained in this pass
    std::string note;               // why a dictionary was not trained, an error, or empty
};

// The one-off run of the recompress attribute.
struct ManualRecompress {
    bool running = false;
    std::uint64_t finished = 0; // runs that have ended since the worker started
    bool stopped = false;   // cut short by the device's removal
    RecompressReport report;
    std::string error;      // empty when every step succeeded
};

class BackgroundRecompressor {
public:
    // Starts the worker (SCHED_IDLE, nice 19); it sleeps until there is work.
    explicit BackgroundRecompressor(std::shared_ptr<PageStore> store);
    // Stops the worker promptly: a batch in progress finishes at normal priority, then the
    // thread is joined. Pages are never left half-swapped (the store swaps atomically).
    ~BackgroundRecompressor();
    BackgroundRecompressor(const BackgroundRecompressor&) = delete;
    BackgroundRecompressor& operator=(const BackgroundRecompressor&) = delete;

    // Sets (or with nullopt stops) the automatic policy. A new policy sets its algorithm as
    // recomp_algorithm at its priority at once (EINVAL for an unknown name); the first pass
    // starts right away, the next ones every interval.
    Status set_policy(std::optional<BackgroundPolicy> policy);
    std::optional<BackgroundPolicy> policy() const;
    std::optional<BackgroundPass> last_pass() const;
    std::uint64_t passes() const;
    // Dictionaries trained by the policy since the worker started (first ones and retrainings).
    std::uint64_t dictionaries_trained() const;

    // Queues a one-off recompression: the steps run in order on the worker, sharing
    // max_pages (taken from the first step), then the store is compacted. EBUSY while the
    // previous one is still running. A running policy pass yields to it between batches.
    Status start_manual(std::vector<RecompressOptions> steps);
    ManualRecompress manual() const;

    // Test and shutdown help: waits until no one-off run is queued or running.
    bool wait_manual_idle(std::chrono::milliseconds timeout) const;
    // Waits until at least `count` passes have finished.
    bool wait_passes(std::uint64_t count, std::chrono::milliseconds timeout) const;

    // Passes and one-off runs that threw and were abandoned (the worker carries on; each is
    // logged at most every few seconds).
    std::uint64_t background_failures() const { return failures_.count(); }
    // Tests: runs on the worker at the start of every pass and one-off run (to inject failures).
    void set_test_hook(std::function<void()> hook);

private:
    void run(std::stop_token stop);
    void run_manual(std::stop_token stop, std::vector<RecompressOptions> steps);
    void run_pass(std::stop_token stop, const BackgroundPolicy& policy, std::uint64_t generation);
    // Sleeps until `seconds` passed, the thread is stopped, a one-off run is queued or the
    // policy is no longer `generation`. Returns false when the pass should end.
    bool pause(std::stop_token& stop, double seconds, std::uint64_t generation);

    std::shared_ptr<PageStore> store_;

    mutable std::mutex mutex_;
    mutable std::condition_variable_any changed_;
    std::optional<BackgroundPolicy> policy_;
    std::uint64_t policy_generation_ = 0; // bumped by set_policy: a running pass ends early
    std::optional<std::vector<RecompressOptions>> manual_queued_;
    ManualRecompress manual_;
    std::optional<BackgroundPass> last_pass_;
    std::uint64_t passes_ = 0;
    // Dictionary drift: the kept-bytes gain of the first pass after the last training.
    std::optional<double> trained_gain_;
    bool dictionary_trained_ = false;
    std::uint64_t dictionaries_trained_ = 0;
    bool retraining_exhausted_ = false; // the store has no generation id left (ENOSPC)

    // Copied under mutex_ by the worker; a shared_ptr so the copy cannot throw.
    std::shared_ptr<const std::function<void()>> test_hook_;
    BackgroundFailures failures_{"recompression worker"};
    std::atomic<pid_t> worker_tid_{0}; // for giving the worker normal priority back when stopping
    std::jthread thread_; // last: stopped and joined before the members above go
};

} // namespace trueno
