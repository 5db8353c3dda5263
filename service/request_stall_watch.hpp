// Requests the kernel holds for a device that never reach its daemon. The block layer counts a
// request in flight from its start to its completion (/sys/block/ublkbN/inflight); a request
// the daemon serves completes within its reserve wait (at most a few hundred ms). Requests in
// flight while the daemon completes none for many seconds wait somewhere in the kernel: after a
// take-over, on a queue the daemon no longer serves, or lost. Swap on such a device freezes the
// machine without a word in any log; this watch puts one there.
//
// Contract of observe(), fed every maintenance tick with the device's in-flight count and the
// number of requests its queues have completed (never decreasing):
//   - returns Stalled, once, when kThreshold or more has passed since the last sample that
//     showed progress (the first sample, a change of completed, or in_flight 0), every sample
//     since having in_flight above 0 and the same completed;
//   - returns FlowingAgain, once, at the first sample after a Stalled one where completed has
//     changed or in_flight is 0, with how long the stall lasted;
//   - returns Quiet otherwise. The first sample only sets the baseline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace trueno::service {

class RequestStallWatch {
public:
    static constexpr std::chrono::seconds kThreshold{10};

    enum class Verdict { Quiet, Stalled, FlowingAgain };
    struct Report {
        Verdict verdict = Verdict::Quiet;
        std::chrono::milliseconds stalled_for{0}; // Stalled: so far; FlowingAgain: in all
        std::uint64_t in_flight = 0;
    };

    Report observe(std::chrono::steady_clock::time_point now, std::uint64_t in_flight,
                   std::uint64_t completed);

private:
    std::optional<std::uint64_t> completed_seen_;
    std::chrono::steady_clock::time_point progress_at_{}; // the last sample that showed progress
    bool reported_ = false;
};

// The block layer's in-flight count (reads + writes) of /sys/block/NAME/inflight's contents;
// nullopt if the text is not two counts.
std::optional<std::uint64_t> parse_inflight(const std::string& text);

} // namespace trueno::service
