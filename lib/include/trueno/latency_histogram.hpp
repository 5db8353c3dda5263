// Durations in buckets of 1/8 of a power of two (12 % wide), so that quantiles cost no memory
// and no sorting, and recording a time (a counter increment) does not change the time measured.
// Not thread-safe: one writer, read by that writer or after it is done.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace trueno {

class LatencyHistogram {
public:
    void add(std::uint64_t ns)
    {
        ++counts_[bucket(ns)];
        ++total_;
        if (ns > max_)
            max_ = ns;
    }
    std::uint64_t count() const { return total_; }
    // The upper edge of the bucket holding the q-quantile (at most the maximum), in microseconds
    // (0 when empty).
    double quantile_us(double q) const
    {
        if (total_ == 0)
            return 0;
        const auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
        std::uint64_t seen = 0;
        for (std::size_t b = 0; b < counts_.size(); ++b) {
            seen += counts_[b];
            if (seen >= want && seen != 0) // the bucket's edge, but never past the largest seen
                return std::min(upper_ns(b), static_cast<double>(max_)) / 1000.0;
        }
        return static_cast<double>(max_) / 1000.0;
    }
    double max_us() const { return static_cast<double>(max_) / 1000.0; }

private:
    static std::size_t bucket(std::uint64_t ns)
    {
        if (ns < 8)
            return ns;
        const int log = 63 - __builtin_clzll(ns);
        return static_cast<std::size_t>(log) * 8 + ((ns >> (log - 3)) & 7);
    }
    static double upper_ns(std::size_t b)
    {
        if (b < 8)
            return static_cast<double>(b + 1);
        const std::size_t log = b / 8;
        return std::ldexp(8.0 + static_cast<double>(b % 8) + 1.0, static_cast<int>(log) - 3);
    }
    std::array<std::uint64_t, 64 * 8> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

} // namespace trueno
