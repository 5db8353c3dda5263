#include "request_stall_watch.hpp"

#include <sstream>

namespace trueno::service {

RequestStallWatch::Report RequestStallWatch::observe(std::chrono::steady_clock::time_point now,
                                                     std::uint64_t in_flight,
                                                     std::uint64_t completed) {
    Report report;
    report.in_flight = in_flight;
    const bool progress = !completed_seen_ || *completed_seen_ != completed || in_flight == 0;
    completed_seen_ = completed;
    if (progress) {
        if (reported_) {
            report.verdict = Verdict::FlowingAgain;
            report.stalled_for =
                std::chrono::duration_cast<std::chrono::milliseconds>(now - progress_at_);
            reported_ = false;
        }
        progress_at_ = now;
        return report;
    }
    report.stalled_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - progress_at_);
    if (!reported_ && now - progress_at_ >= kThreshold) {
        report.verdict = Verdict::Stalled;
        reported_ = true;
    }
    return report;
}

std::optional<std::uint64_t> parse_inflight(const std::string& text) {
    std::istringstream in(text);
    std::uint64_t reads = 0;
    std::uint64_t writes = 0;
    if (!(in >> reads >> writes))
        return std::nullopt;
    std::string rest;
    if (in >> rest)
        return std::nullopt;
    return reads + writes;
}

} // namespace trueno::service
