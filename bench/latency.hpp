// Per-operation latencies in nanoseconds, gathered per thread and summarised as percentiles.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace trueno::bench {

struct LatencySummary {
    double p50_us = 0;
    double p99_us = 0;
    double max_us = 0;
};

// Nearest-rank percentiles over every sample (sorted in place). Empty input gives zeros.
LatencySummary summarize_latencies(std::vector<std::uint32_t>& samples_ns);

// Nearest-rank percentile (0 < p <= 100) of sorted samples, in nanoseconds.
std::uint32_t percentile_ns(std::span<const std::uint32_t> sorted, double p);

} // namespace trueno::bench
