// ParkedWrites: the writes a queue sets aside while the store's reserve is empty (the contract in
// service/ublk/parked_writes.hpp), driven with a stand-in for the store and the clock.
#include "ublk/parked_writes.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <map>
#include <utility>
#include <vector>

using trueno::ublk::Attempt;
using trueno::ublk::ParkedWrites;
using namespace std::chrono_literals;

namespace {

using Clock = ParkedWrites::Clock;

// What each tag's next try returns (needs memory unless told), and every try and finish seen.
struct Script {
    std::map<unsigned, std::vector<Attempt>> outcomes;
    std::vector<std::pair<unsigned, std::uint64_t>> tries; // (tag, resumed from)
    std::vector<std::pair<unsigned, int>> finished;        // (tag, result)
    Clock::time_point now{};

    Attempt next(const ParkedWrites::Write& write) {
        tries.emplace_back(write.tag, write.bytes_done);
        auto& queue = outcomes[write.tag];
        if (queue.empty())
            return {0, true, write.bytes_done};
        const Attempt a = queue.front();
        queue.erase(queue.begin());
        return a;
    }

    std::size_t retry(ParkedWrites& parked, std::uint64_t progress) {
        return parked.retry(
            progress, [&](const ParkedWrites::Write& w) { return next(w); },
            [&](const ParkedWrites::Write& w, int result) { finished.emplace_back(w.tag, result); },
            [&] { return now; });
    }
};

} // namespace

TEST_CASE("parked writes are tried oldest first, up to the first that still finds no memory") {
    Script script;
    ParkedWrites parked(8);
    const auto deadline = script.now + 2s;
    parked.park({3, 0, deadline}, 10, script.now);
    parked.park({1, 4096, deadline}, 10, script.now);
    parked.park({7, 0, deadline}, 10, script.now);
    script.outcomes[3] = {{8192, false, 8192}};
    script.outcomes[1] = {{0, true, 8192}}; // got one page further, then none again
    REQUIRE(script.retry(parked, 11) == 0);
    CHECK(script.tries == std::vector<std::pair<unsigned, std::uint64_t>>{{3, 0}, {1, 4096}});
    CHECK(script.finished == std::vector<std::pair<unsigned, int>>{{3, 8192}});
    REQUIRE(parked.size() == 2);
    CHECK(parked.writes()[0].tag == 1);
    CHECK(parked.writes()[0].bytes_done == 8192); // resumed from there next time
    CHECK(parked.writes()[1].tag == 7);

    script.outcomes[1] = {{12288, false, 12288}};
    script.outcomes[7] = {{-EIO, false, 0}}; // another error ends the wait too
    script.tries.clear();
    REQUIRE(script.retry(parked, 12) == 0);
    CHECK(script.tries == std::vector<std::pair<unsigned, std::uint64_t>>{{1, 8192}, {7, 0}});
    CHECK(script.finished ==
          std::vector<std::pair<unsigned, int>>{{3, 8192}, {1, 12288}, {7, -EIO}});
    CHECK(parked.empty());
}

TEST_CASE(
    "a parked write is due again when the refiller published memory or the retry period passed") {
    ParkedWrites parked(4);
    Clock::time_point now{};
    parked.park({0, 0, now + 2s}, 5, now);
    CHECK_FALSE(parked.due(5, now));
    CHECK_FALSE(parked.due(5, now + ParkedWrites::kRetryPeriod - 1ms));
    CHECK(parked.due(6, now + 1ms)); // pages published
    CHECK(parked.due(5, now + ParkedWrites::kRetryPeriod));
    // A write parked behind others does not restart the clock or forget the progress seen.
    parked.park({1, 0, now + 2s}, 9, now + 10ms);
    CHECK(parked.due(5, now + ParkedWrites::kRetryPeriod));
    CHECK_FALSE(parked.due(5, now + 10ms));
    // A try sets both: due again only after the next change or period.
    Script script;
    script.now = now + 30ms;
    script.retry(parked, 7);
    CHECK_FALSE(parked.due(7, now + 31ms));
    CHECK(parked.due(8, now + 31ms));
    CHECK(parked.due(7, now + 30ms + ParkedWrites::kRetryPeriod));
}

TEST_CASE("a write past its wait fails with ENOSPC; the others keep waiting in order") {
    Script script;
    ParkedWrites parked(4);
    const Clock::time_point start{};
    parked.park({0, 0, start + 200ms}, 1, start);
    parked.park({1, 0, start + 2s}, 1, start);
    parked.park({2, 0, start + 300ms}, 1, start);
    auto finish = [&](const ParkedWrites::Write& write, int result) {
        script.finished.emplace_back(write.tag, result);
    };
    CHECK(parked.expire(start + 199ms, finish) == 0);
    CHECK(parked.expire(start + 300ms, finish) == 2);
    CHECK(script.finished == std::vector<std::pair<unsigned, int>>{{0, -ENOSPC}, {2, -ENOSPC}});
    REQUIRE(parked.size() == 1);
    CHECK(parked.writes()[0].tag == 1);
    // A try that still finds no memory expires what is due in the same call.
    script.now = start + 2s;
    CHECK(script.retry(parked, 2) == 1);
    CHECK(script.finished.back() == std::pair<unsigned, int>{1, -ENOSPC});
    CHECK(parked.empty());
}

TEST_CASE("parking never allocates: the queue's depth is reserved up front") {
    ParkedWrites parked(128);
    const auto* before = parked.writes().data();
    for (unsigned tag = 0; tag < 128; ++tag)
        parked.park({tag, 0, Clock::time_point{} + 1s}, 0, Clock::time_point{});
    CHECK(parked.writes().data() == before);
    CHECK(parked.size() == 128);
}
