// Percentiles are nearest-rank over every sample.
#include <catch2/catch.hpp>
#include <vector>

#include "latency.hpp"

using namespace trueno::bench;

TEST_CASE("nearest-rank percentiles") {
    std::vector<std::uint32_t> samples;
    for (std::uint32_t i = 100; i >= 1; --i) samples.push_back(i * 1000); // 1..100 us, reversed
    auto s = summarize_latencies(samples);
    CHECK(s.p50_us == Approx(50.0));
    CHECK(s.p99_us == Approx(99.0));
    CHECK(s.max_us == Approx(100.0));
}

TEST_CASE("one slow sample in a hundred shows at p100, not p99") {
    std::vector<std::uint32_t> samples(99, 2000);
    samples.push_back(900000);
    auto s = summarize_latencies(samples);
    CHECK(s.p99_us == Approx(2.0));
    CHECK(s.max_us == Approx(900.0));
}

TEST_CASE("no samples give zeros, one sample is every percentile") {
    std::vector<std::uint32_t> none;
    auto z = summarize_latencies(none);
    CHECK(z.p50_us == 0);
    CHECK(z.p99_us == 0);
    std::vector<std::uint32_t> one{1500};
    auto o = summarize_latencies(one);
    CHECK(o.p50_us == Approx(1.5));
    CHECK(o.p99_us == Approx(1.5));
}
