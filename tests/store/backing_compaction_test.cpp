// Compaction of the backing device: blocks left sparse by discards and rewrites of written-back
// pages are emptied, their objects moved packed into new blocks; every page reads back
// identical, beside writers, readers and discards too; the limit and damaged objects are
// respected; and the fragmentation threshold that starts it on its own.
#include "backing_file.hpp"
#include "concurrent_run.hpp"
#include "store_checks.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <thread>

namespace trueno::test {
namespace {

// Compressible pages of several sizes, and some raw ones.
Page page_for(std::uint64_t i) {
    return i % 9 == 0 ? incompressible_page(i * 13) : compressible_page(i * 29);
}

// Written and written back, then two pages of every three discarded: most blocks keep a third
// of their bytes.
void fragment(PageStore& store, std::uint64_t pages, const std::string& backing) {
    for (std::uint64_t i = 0; i < pages; ++i)
        REQUIRE(store.write_page(i, page_for(i)).ok());
    REQUIRE(store.set_backing_device(backing).ok());
    REQUIRE(store.writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
    for (std::uint64_t i = 0; i < pages; ++i)
        if (i % 3 != 0)
            store.discard(i, 1);
}

void check_kept(PageStore& store, std::uint64_t pages) {
    for (std::uint64_t i = 0; i < pages; ++i) {
        Page out{};
        auto read = store.read_page(i, out);
        INFO("page " << i << (read ? "" : ": " + read.error().message));
        REQUIRE(read.ok());
        const Page expected = i % 3 == 0 ? page_for(i) : Page{};
        REQUIRE(std::memcmp(out.data(), expected.data(), kPageSize) == 0);
    }
}

} // namespace

TEST_CASE("the backing device counts as fragmented when repacking frees a quarter of its blocks",
          "[writeback][compaction]") {
    CHECK(!backing_fragmented({0, 0}));
    CHECK(!backing_fragmented({10, 0}));              // 10 spare: fewer than 16
    CHECK(backing_fragmented({16, 0}));               // all 16 spare
    CHECK(!backing_fragmented({100, 80 * 4096}));     // 20 of 100 spare: under a quarter
    CHECK(backing_fragmented({100, 75 * 4096}));      // 25 of 100
    CHECK(!backing_fragmented({100, 75 * 4096 + 1})); // 76 blocks needed: 24 spare
    CHECK(!backing_fragmented({100, 100 * 4096}));    // full
    CHECK(!backing_fragmented({100, 200 * 4096}));    // never negative
}

TEST_CASE("compaction empties sparse blocks into new ones; every page reads back identical",
          "[writeback][compaction]") {
    constexpr std::uint64_t kPages = 900;
    BackingFile file(2048);
    auto store = make_store(kPages);
    fragment(*store, kPages, file.path());
    const BackingUsage before = store->backing_usage();
    const BdStat bd_before = store->bd_stat();
    INFO("before: " << before.used_blocks << " blocks, " << before.live_bytes << " bytes live");
    REQUIRE(backing_fragmented(before));

    auto report = store->compact_backing();
    REQUIRE(report.ok());
    const BackingUsage after = store->backing_usage();
    INFO("after: " << after.used_blocks << " blocks; moved " << report->objects << ", read "
                   << report->blocks_read << ", written " << report->blocks_written);
    CHECK(report->objects > 0);
    CHECK(report->raced == 0);
    CHECK(report->damaged == 0);
    CHECK(!report->limit_reached);
    CHECK(report->blocks_freed == before.used_blocks - after.used_blocks);
    CHECK(after.live_bytes == before.live_bytes); // moved, not lost
    // Packed again: blocks more than 3/4 full stay, so at most a quarter of a block's bytes
    // is spare on the whole (plus a partly filled last block).
    const std::uint64_t needed = (after.live_bytes + 4095) / 4096;
    CHECK(after.used_blocks < before.used_blocks);
    CHECK(after.used_blocks <= needed * 4 / 3 + 1);
    CHECK(!backing_fragmented(after));
    const BdStat bd_after = store->bd_stat();
    CHECK(bd_after.count == bd_before.count);
    CHECK(bd_after.writes == bd_before.writes + report->blocks_written);
    require_stats_exact(*store);
    check_kept(*store, kPages);

    // Nothing sparse left: a second call moves nothing.
    auto again = store->compact_backing();
    REQUIRE(again.ok());
    CHECK(again->blocks_written == 0);
    check_kept(*store, kPages);
    // The freed blocks are used again by the next writeback.
    for (std::uint64_t i = 1; i < kPages; i += 3)
        REQUIRE(store->write_page(i, page_for(i)).ok());
    REQUIRE(store->writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
    require_stats_exact(*store);
}

TEST_CASE("compaction without a backing device, or with nothing sparse, does nothing",
          "[writeback][compaction]") {
    auto store = make_store(64);
    auto none = store->compact_backing();
    REQUIRE(none.ok());
    CHECK(none->objects == 0);
    BackingFile file(256);
    for (std::uint64_t i = 0; i < 64; ++i)
        REQUIRE(store->write_page(i, page_for(i)).ok());
    REQUIRE(store->set_backing_device(file.path()).ok());
    REQUIRE(store->writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
    const BdStat bd = store->bd_stat();
    auto packed = store->compact_backing();
    REQUIRE(packed.ok());
    CHECK(packed->blocks_written == 0);
    CHECK(store->bd_stat().writes == bd.writes);
}

TEST_CASE("compaction counts against writeback_limit and stops when it is spent",
          "[writeback][compaction]") {
    constexpr std::uint64_t kPages = 600;
    BackingFile file(2048);
    auto store = make_store(kPages);
    fragment(*store, kPages, file.path());
    const BackingUsage before = store->backing_usage();
    store->set_writeback_limit(0);
    store->set_writeback_limit_enable(true);
    auto report = store->compact_backing();
    REQUIRE(report.ok());
    CHECK(report->limit_reached);
    CHECK(report->blocks_written == 0);
    CHECK(report->objects == 0);
    CHECK(store->backing_usage().used_blocks == before.used_blocks);
    require_stats_exact(*store);
    check_kept(*store, kPages);

    store->set_writeback_limit(3);
    report = store->compact_backing();
    REQUIRE(report.ok());
    CHECK(report->blocks_written == 3);
    CHECK(store->writeback_limit() == 0);
    require_stats_exact(*store);
    check_kept(*store, kPages);
}

TEST_CASE("an object whose bytes on the device changed is left where it is by compaction",
          "[writeback][compaction]") {
    constexpr std::uint64_t kPages = 600;
    BackingFile file(2048);
    auto store = make_store(kPages);
    fragment(*store, kPages, file.path());
    // A kept page whose object lies in one block that compaction will repack (at most half
    // full, so surely under the threshold; counted from every written-back page's place).
    std::map<std::uint64_t, std::uint64_t> live; // block -> bytes
    for (std::uint64_t i = 0; i < kPages; ++i)
        if (auto at = concrete(*store).backing_place(i))
            for (const auto& part : store::backing_parts(*at))
                if (part.bytes != 0)
                    live[part.block] += part.bytes;
    std::uint64_t victim = kPages;
    for (std::uint64_t i = 3; i < kPages && victim == kPages; i += 3) {
        const auto at = concrete(*store).backing_place(i);
        if (at && store::backing_span(*at) == 1 && live[at->block] <= 2048)
            victim = i;
    }
    REQUIRE(victim < kPages);
    // Zeros where its object was: its check no longer matches.
    const auto place = concrete(*store).backing_place(victim);
    {
        std::FILE* f = std::fopen(file.path().c_str(), "r+b");
        REQUIRE(f != nullptr);
        std::vector<std::byte> zeros(place->size);
        REQUIRE(std::fseek(f, static_cast<long>(place->block * 4096 + place->offset), SEEK_SET) ==
                0);
        std::fwrite(zeros.data(), 1, zeros.size(), f);
        std::fclose(f);
    }
    auto report = store->compact_backing();
    REQUIRE(report.ok());
    CHECK(report->damaged == 1);
    CHECK(report->objects > 0);
    Page out{};
    auto damaged = store->read_page(victim, out);
    REQUIRE(!damaged.ok());
    CHECK(damaged.error().code == EIO);
    for (std::uint64_t i = 0; i < kPages; i += 3) {
        if (i == victim)
            continue;
        REQUIRE(store->read_page(i, out).ok());
        REQUIRE(out == page_for(i));
    }
    require_stats_exact(*store);
}

TEST_CASE("compaction beside writers, readers, discards and writeback never tears a page",
          "[writeback][compaction][concurrency]") {
    constexpr std::uint64_t kPages = 96;
    BackingFile file(4096);
    auto store = make_store(kPages);
    REQUIRE(store->set_backing_device(file.path()).ok());
    IssuedVersions issued(kPages);
    std::atomic<std::uint64_t> moved{0};
    ConcurrentRun run;
    run.spawn([&] {
        std::mt19937_64 rng(1);
        while (run.running()) {
            const std::uint64_t index = rng() % kPages;
            if (!store->write_page(index, versioned_page(index, issued.issue(index))).ok())
                run.fail();
        }
    });
    run.spawn_reader(*store, kPages, 100, [&](std::uint64_t index, const Page& page) {
        return issued.whole(index, page);
    });
    run.spawn([&] {
        std::mt19937_64 rng(2);
        while (run.running()) {
            store->discard(rng() % kPages, 1);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    run.spawn([&] {
        while (run.running()) {
            if (!store->writeback(WritebackOptions{WritebackOptions::Type::any}))
                run.fail();
            auto report = store->compact_backing();
            if (!report)
                run.fail();
            else
                moved.fetch_add(report->objects, std::memory_order_relaxed);
        }
    });
    run.run_until([&] { return run.reads() > 200 && moved.load() > 50; },
                  std::chrono::milliseconds(2000));
    INFO("reads " << run.reads() << " moved " << moved.load());
    REQUIRE(run.failures() == 0);
    CHECK(moved.load() > 0);
    require_stats_exact(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) {
        Page page{};
        REQUIRE(store->read_page(i, page).ok());
        CHECK((page == Page{} || issued.whole(i, page)));
    }
}

} // namespace trueno::test
