// The automatic writeback policy: its text, when a pass runs and with what budget, and a pass
// itself (old pages only, raw ones first, within the blocks allowed).
#include "backing_file.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"
#include "trueno/writeback_policy.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

namespace trueno::test {

namespace {

std::unique_ptr<PageStore> lz4_store(std::uint64_t pages) {
    StoreConfig config;
    config.disksize = pages * kPageSize;
    config.algorithm = "lz4";
    config.streams = 2;
    auto created = PageStore::create(config);
    REQUIRE(created.ok());
    return std::move(*created);
}

} // namespace

TEST_CASE("writeback_policy text: on/off, keys, defaults and errors", "[writeback-policy]") {
    auto off = parse_writeback_policy("off\n");
    REQUIRE(off);
    CHECK(!off->has_value());
    auto plain = parse_writeback_policy("on");
    REQUIRE(plain);
    REQUIRE(plain->has_value());
    CHECK(**plain == WritebackPolicy{});
    auto set = parse_writeback_policy(" on age=2h interval=10min budget=512M used=80 ");
    REQUIRE(set);
    CHECK((*set)->age_seconds == 7200);
    CHECK((*set)->interval_seconds == 600);
    CHECK((*set)->budget_bytes == std::uint64_t{512} << 20);
    CHECK((*set)->used_percent == 80);
    // What it prints reads back to the same settings.
    auto again = parse_writeback_policy(format_writeback_policy(*set));
    REQUIRE(again);
    CHECK(**again == **set);
    CHECK(format_writeback_policy(std::nullopt) == "off");
    for (const char* bad : {"", "yes", "off age=1", "on age=", "on age=1y", "on interval=0", "on budget=1Q",
                            "on used=101", "on colour=red", "on age"}) {
        CAPTURE(bad);
        auto r = parse_writeback_policy(bad);
        REQUIRE(!r);
        CHECK(r.error().code == EINVAL);
        CHECK(!r.error().message.empty());
    }
}

TEST_CASE("a pass runs only while memory is short, within the day's budget", "[writeback-policy]") {
    WritebackPolicy policy; // budget 1 GiB = 262144 blocks a day, used=50
    // With a memory limit: the device's use of it decides.
    CHECK(!decide_writeback(policy, {40, 100, 0, 0}, 0).run);
    auto d = decide_writeback(policy, {50, 100, 0, 0}, 0);
    CHECK(d.run);
    CHECK(d.max_blocks == 262144);
    CHECK(decide_writeback(policy, {90, 100, 0, 0}, 262000).max_blocks == 144);
    auto spent = decide_writeback(policy, {90, 100, 0, 0}, 262144);
    CHECK(!spent.run);
    CHECK(spent.reason.find("budget") != std::string::npos);
    // Without one: the machine's memory in use (total - available).
    CHECK(!decide_writeback(policy, {10, 0, 1000, 600}, 0).run);
    CHECK(decide_writeback(policy, {10, 0, 1000, 400}, 0).run);
    // used=0: always; budget=0: no limit.
    policy.used_percent = 0;
    policy.budget_bytes = 0;
    auto always = decide_writeback(policy, {0, 100, 1000, 1000}, 1u << 30);
    CHECK(always.run);
    CHECK(always.max_blocks == 0);
}

TEST_CASE("a pass writes back old pages only, within the blocks allowed", "[writeback-policy]") {
    constexpr std::uint64_t kPages = 400;
    BackingFile file(1024);
    auto created = lz4_store(kPages);
    auto& store = *created;
    for (std::uint64_t i = 0; i < kPages / 2; ++i)
        REQUIRE(store.write_page(i, i % 4 == 0 ? incompressible_page(i) : compressible_page(i)).ok());
    // Access times count whole seconds since the store was made: after 4.2 s these pages are
    // at least 4 seconds old; pages written now are at most 1 old for the next second, so with
    // age=3 a pass that starts within about 2 s of writing them leaves them alone.
    std::this_thread::sleep_for(std::chrono::milliseconds(4200));
    const auto young_written = std::chrono::steady_clock::now();
    for (std::uint64_t i = kPages / 2; i < kPages; ++i) REQUIRE(store.write_page(i, compressible_page(i)).ok());
    REQUIRE(store.set_backing_device(file.path()).ok());

    WritebackPolicy policy;
    policy.age_seconds = 3;
    // A budget of 10 blocks: the raw (huge) old pages go first, one block each.
    auto first = run_writeback_pass(store, policy, 10);
    REQUIRE(first);
    CHECK(first->blocks == 10);
    CHECK(first->budget_reached);
    CHECK(first->pages == 10);
    for (std::uint64_t i = 0; i < kPages; ++i)
        if (concrete(store).backing_place(i)) CHECK(i % 4 == 0);
    // No budget: every old page goes, no young one.
    auto second = run_writeback_pass(store, policy, 0);
    REQUIRE(second);
    const bool prompt =
        std::chrono::steady_clock::now() - young_written < std::chrono::milliseconds(1900);
    for (std::uint64_t i = 0; i < kPages; ++i) {
        CAPTURE(i);
        if (i < kPages / 2)
            CHECK(concrete(store).backing_place(i).has_value());
        else if (prompt)
            CHECK(!concrete(store).backing_place(i).has_value());
    }
    if (!prompt)
        WARN(
            "the passes ran more than 1.9 s after the young pages were written (a loaded machine): "
            "that they stayed in RAM was not checked");
    for (std::uint64_t i = 0; i < kPages; ++i) {
        Page out{};
        REQUIRE(store.read_page(i, out).ok());
        const Page expected = i < kPages / 2 && i % 4 == 0 ? incompressible_page(i) : compressible_page(i);
        CHECK(out == expected);
    }
}

TEST_CASE("room on demand: from 90 % of the limit down to 80 %, within the day's budget",
          "[writeback-policy][room]") {
    WritebackPolicy policy; // budget 1 GiB = 262144 blocks a day
    const std::uint64_t limit = 100 << 20;
    auto none = decide_room(policy, 99 << 20, 0, 0);
    CHECK(!none.run);
    CHECK(none.reason.find("mem_limit") != std::string::npos);
    auto below = decide_room(policy, limit * 89 / 100, limit, 0);
    CHECK(!below.run);
    CHECK(below.reason.empty()); // nothing to do is not a failure
    auto at = decide_room(policy, limit * 9 / 10, limit, 0);
    REQUIRE(at.run);
    CHECK(at.bytes == limit * 9 / 10 - limit * 8 / 10);
    CHECK(at.max_blocks == 262144);
    auto full = decide_room(policy, limit, limit, 262000);
    REQUIRE(full.run);
    CHECK(full.bytes == limit / 5);
    CHECK(full.max_blocks == 144);
    auto spent = decide_room(policy, limit, limit, 262144);
    CHECK(!spent.run);
    CHECK(spent.reason.find("budget") != std::string::npos);
    policy.budget_bytes = 0;
    auto unlimited = decide_room(policy, limit, limit, 1u << 30);
    CHECK(unlimited.run);
    CHECK(unlimited.max_blocks == 0);
}

TEST_CASE("a room pass writes back the coldest pages and gives their memory back",
          "[writeback-policy][room]") {
    constexpr std::uint64_t kPages = 600;
    BackingFile file(1024);
    auto created = lz4_store(kPages);
    auto& store = *created;
    const auto page = [](std::uint64_t i) {
        return i % 5 == 0 ? incompressible_page(i) : compressible_page(i);
    };
    // Old pages scattered among young ones: the pass must pick by age, not by place.
    const auto old = [](std::uint64_t i) {
        return i % 3 == 0;
    };
    for (std::uint64_t i = 0; i < kPages; ++i)
        if (old(i))
            REQUIRE(store.write_page(i, page(i)).ok());
    const std::uint64_t old_bytes = store.mm_stat().compr_data_size;
    std::this_thread::sleep_for(std::chrono::milliseconds(3200));
    const auto young_written = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < kPages; ++i)
        if (!old(i))
            REQUIRE(store.write_page(i, page(i)).ok());
    REQUIRE(store.set_backing_device(file.path()).ok());

    // The old pages hold old_bytes: the coldest age that holds them is theirs (at least 3 s),
    // and one that holds more than every page is 0 (any age).
    const std::uint64_t age = store.coldest_age(old_bytes);
    const bool prompt =
        std::chrono::steady_clock::now() - young_written < std::chrono::milliseconds(1900);
    CHECK(age >= 2);
    CHECK(store.coldest_age(store.mm_stat().compr_data_size + 1) == 0);

    const MmStat before = store.mm_stat();
    auto room = make_room(store, old_bytes, 0);
    REQUIRE(room);
    CHECK(room->min_age_seconds == age);
    const MmStat after = store.mm_stat();
    CAPTURE(before.mem_used_total, after.mem_used_total, room->writeback.pages,
            room->pages_compacted);
    std::uint64_t old_out = 0, young_out = 0;
    for (std::uint64_t i = 0; i < kPages; ++i)
        (old(i) ? old_out : young_out) += concrete(store).backing_place(i).has_value() ? 1 : 0;
    CHECK(old_out == kPages / 3);
    if (prompt)
        CHECK(young_out == 0);
    else
        WARN("the pass ran more than 1.9 s after the young pages were written (a loaded machine): "
             "that they stayed in RAM was not checked");
    // Their memory went back: compaction packed the young pages' objects into fewer pages.
    CHECK(after.compr_data_size == before.compr_data_size - room->writeback.bytes);
    CHECK(after.mem_used_total < before.mem_used_total);
    CHECK(after.mem_used_total <=
          after.compr_data_size + after.compr_data_size / 20 + 16 * kPageSize);
    for (std::uint64_t i = 0; i < kPages; ++i) {
        Page out{};
        REQUIRE(store.read_page(i, out).ok());
        CHECK(out == page(i));
    }
    // A cap on blocks (the day's budget) holds.
    for (std::uint64_t i = 0; i < kPages; ++i)
        REQUIRE(store.write_page(i, page(i + 1)).ok());
    auto capped = make_room(store, store.mm_stat().compr_data_size, 5);
    REQUIRE(capped);
    CHECK(capped->writeback.blocks == 5);
}

} // namespace trueno::test
