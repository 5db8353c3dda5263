// RequestStallWatch, against its contract (service/request_stall_watch.hpp).
#include "request_stall_watch.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using trueno::service::parse_inflight;
using trueno::service::RequestStallWatch;
using Verdict = RequestStallWatch::Verdict;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
}

TEST_CASE("request stall: said once after the threshold with requests in flight and none completed",
          "[request-stall]") {
    RequestStallWatch watch;
    CHECK(watch.observe(t0, 3, 100).verdict == Verdict::Quiet); // the baseline
    CHECK(watch.observe(t0 + 2s, 3, 100).verdict == Verdict::Quiet);
    CHECK(watch.observe(t0 + 9s, 3, 100).verdict == Verdict::Quiet);
    const auto stalled = watch.observe(t0 + 10s, 2, 100);
    CHECK(stalled.verdict == Verdict::Stalled);
    CHECK(stalled.stalled_for == 10s);
    CHECK(stalled.in_flight == 2);
    CHECK(watch.observe(t0 + 12s, 2, 100).verdict == Verdict::Quiet); // not again
    CHECK(watch.observe(t0 + 60s, 2, 100).verdict == Verdict::Quiet);
    const auto again = watch.observe(t0 + 62s, 2, 101);
    CHECK(again.verdict == Verdict::FlowingAgain);
    CHECK(again.stalled_for == 62s);
    CHECK(watch.observe(t0 + 64s, 2, 102).verdict == Verdict::Quiet);
}

TEST_CASE("request stall: completions or an idle device are never a stall", "[request-stall]") {
    RequestStallWatch watch;
    for (int i = 0; i < 30; ++i) // busy: requests in flight all along, but some complete each time
        CHECK(
            watch.observe(t0 + std::chrono::seconds(2 * i), 5, 100 + static_cast<std::uint64_t>(i))
                .verdict == Verdict::Quiet);
    RequestStallWatch idle;
    for (int i = 0; i < 30; ++i) // idle: nothing in flight, nothing completes
        CHECK(idle.observe(t0 + std::chrono::seconds(2 * i), 0, 7).verdict == Verdict::Quiet);
}

TEST_CASE("request stall: in flight emptying ends the stall, and the clock starts again",
          "[request-stall]") {
    RequestStallWatch watch;
    watch.observe(t0, 1, 5);
    CHECK(watch.observe(t0 + 11s, 1, 5).verdict == Verdict::Stalled);
    CHECK(watch.observe(t0 + 13s, 0, 5).verdict == Verdict::FlowingAgain);
    CHECK(watch.observe(t0 + 15s, 1, 5).verdict == Verdict::Quiet);
    CHECK(watch.observe(t0 + 22s, 1, 5).verdict == Verdict::Quiet); // 9 s since the idle sample
    CHECK(watch.observe(t0 + 23s, 1, 5).verdict == Verdict::Stalled);
}

TEST_CASE("request stall: /sys/block/NAME/inflight parsed", "[request-stall]") {
    CHECK(parse_inflight("       3        0\n") == 3u);
    CHECK(parse_inflight("0 0") == 0u);
    CHECK(parse_inflight("12 30\n") == 42u);
    CHECK_FALSE(parse_inflight(""));
    CHECK_FALSE(parse_inflight("3"));
    CHECK_FALSE(parse_inflight("a b"));
    CHECK_FALSE(parse_inflight("1 2 3"));
}
