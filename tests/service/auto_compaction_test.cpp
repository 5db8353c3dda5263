// AutoCompaction::due, against its contract (service/auto_compaction.hpp).
#include <catch2/catch.hpp>

#include <chrono>

#include "auto_compaction.hpp"

using trueno::service::AutoCompaction;
using trueno::service::CompactionSample;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;

CompactionSample sample(std::uint64_t used, std::uint64_t compr, std::uint64_t misses, std::chrono::seconds at) {
    return {used, compr, misses, t0 + at};
}

} // namespace

TEST_CASE("auto-compaction: due once the slack is large and writes found the reserve ready for a while",
          "[auto-compaction]") {
    AutoCompaction ac;
    CHECK_FALSE(ac.due(sample(100 * MiB, 80 * MiB, 7, 0s)));   // the first sample: the baseline
    CHECK_FALSE(ac.due(sample(100 * MiB, 80 * MiB, 7, 9s)));   // quiet for 9 s only
    CHECK(ac.due(sample(100 * MiB, 80 * MiB, 7, 10s)));        // 20 MiB over, quiet 10 s
    CHECK_FALSE(ac.due(sample(100 * MiB, 80 * MiB, 7, 30s)));  // not again within a minute
    CHECK_FALSE(ac.due(sample(100 * MiB, 80 * MiB, 7, 69s)));
    CHECK(ac.due(sample(100 * MiB, 80 * MiB, 7, 70s)));        // a minute after the last
}

TEST_CASE("auto-compaction: a reserve miss restarts the quiet period", "[auto-compaction]") {
    AutoCompaction ac;
    CHECK_FALSE(ac.due(sample(100 * MiB, 50 * MiB, 0, 0s)));
    CHECK_FALSE(ac.due(sample(100 * MiB, 50 * MiB, 3, 20s))); // writes found it dry: pressure
    CHECK_FALSE(ac.due(sample(100 * MiB, 50 * MiB, 3, 29s)));
    CHECK(ac.due(sample(100 * MiB, 50 * MiB, 3, 30s)));
}

TEST_CASE("auto-compaction: too little slack, absolute or relative, is left alone", "[auto-compaction]") {
    SECTION("under 1 MiB") {
        AutoCompaction ac;
        ac.due(sample(10 * MiB, 9 * MiB + MiB / 2, 0, 0s));
        CHECK_FALSE(ac.due(sample(10 * MiB, 9 * MiB + MiB / 2, 0, 100s)));
        CHECK(ac.due(sample(10 * MiB, 9 * MiB, 0, 101s))); // exactly 1 MiB and 10 %
    }
    SECTION("under 5 % of mem_used") {
        AutoCompaction ac;
        ac.due(sample(1000 * MiB, 960 * MiB, 0, 0s));
        CHECK_FALSE(ac.due(sample(1000 * MiB, 960 * MiB, 0, 100s))); // 40 MiB: 4 %
        CHECK(ac.due(sample(1000 * MiB, 950 * MiB, 0, 101s)));       // 50 MiB: 5 %
    }
    SECTION("no slack at all, or data beyond mem_used (same-filled pages count in neither)") {
        AutoCompaction ac;
        ac.due(sample(0, 0, 0, 0s));
        CHECK_FALSE(ac.due(sample(0, 0, 0, 100s)));
        CHECK_FALSE(ac.due(sample(5 * MiB, 6 * MiB, 0, 200s)));
    }
}
