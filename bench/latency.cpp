#include "latency.hpp"

#include <algorithm>
#include <cmath>

namespace trueno::bench {

std::uint32_t percentile_ns(std::span<const std::uint32_t> sorted, double p) {
    if (sorted.empty()) return 0;
    // Nearest rank: the smallest sample with at least p% of samples at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

LatencySummary summarize_latencies(std::vector<std::uint32_t>& samples_ns) {
    if (samples_ns.empty()) return {};
    std::sort(samples_ns.begin(), samples_ns.end());
    return LatencySummary{
        .p50_us = percentile_ns(samples_ns, 50) / 1000.0,
        .p99_us = percentile_ns(samples_ns, 99) / 1000.0,
        .max_us = samples_ns.back() / 1000.0,
    };
}

} // namespace trueno::bench
