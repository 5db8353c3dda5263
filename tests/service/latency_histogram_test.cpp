// LatencyHistogram (lib/include/trueno/latency_histogram.hpp): the queues' time-in-daemon report
// and page-verify's access times rest on its quantiles.
#include <catch2/catch.hpp>

#include "trueno/latency_histogram.hpp"

using trueno::LatencyHistogram;

TEST_CASE("quantiles are bucket edges within 12.5 % above the true value, never past the maximum")
{
    LatencyHistogram times;
    CHECK(times.count() == 0);
    CHECK(times.quantile_us(0.5) == 0);
    for (std::uint64_t us = 1; us <= 1000; ++us)
        times.add(us * 1000);
    CHECK(times.count() == 1000);
    const double p50 = times.quantile_us(0.5);
    const double p99 = times.quantile_us(0.99);
    CHECK(p50 >= 500);
    CHECK(p50 <= 500 * 1.125);
    CHECK(p99 >= 990);
    CHECK(p99 <= 1000); // the bucket's edge is 1024 us: capped at the largest time seen
    CHECK(times.max_us() == 1000);
}

TEST_CASE("a single time is its own every quantile")
{
    LatencyHistogram times;
    times.add(1'015'576'000); // a write parked through a second of reclaim throttle
    CHECK(times.quantile_us(0.5) == Approx(1'015'576));
    CHECK(times.quantile_us(0.99) == Approx(1'015'576));
}
