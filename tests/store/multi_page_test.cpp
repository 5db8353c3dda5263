// Multi-page objects and deduplication: every path round-trips (grouped, deduplicated, then
// overwritten, discarded, partly read and written, split back, compacted), the statistics
// (mm_stat, huge_pages, object_stat) stay exact, and pages never tear while passes run.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "compressed_page_store.hpp"
#include "concurrent_run.hpp"
#include "store_checks.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;

namespace {

RecompressOptions grouped(unsigned pages) {
    RecompressOptions options;
    options.group_pages = pages;
    return options;
}

// Discarding every page leaves no object, no compressed byte and, once compacted, no memory.
void require_nothing_left(PageStore& store, std::uint64_t pages) {
    store.discard(0, pages);
    test::require_stats_exact(store);
    CHECK(store.object_stat().groups == 0);
    CHECK(store.mm_stat().compr_data_size == 0);
    store.compact();
    CHECK(store.mm_stat().mem_used_total == 0);
}

} // namespace

TEST_CASE("multi-page objects need zstd and a sane size", "[store][multipage]") {
    auto store = test::make_store(64);
    REQUIRE(store->set_recomp_algorithm(1, "lz4hc", {}).ok());
    CHECK(store->recompress(grouped(8)).error().code == EINVAL);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", {}).ok());
    CHECK(store->recompress(grouped(0)).error().code == EINVAL);
    CHECK(store->recompress(grouped(kMaxGroupPages + 1)).error().code == EINVAL);
    CHECK(store->recompress(grouped(kMaxGroupPages)).ok());
}

TEST_CASE("grouped corpus pages read back identical through every later change",
          "[store][multipage][corpus]") {
    constexpr std::size_t kPages = 1200;
    const auto corpus = test::corpus_pages(kPages);
    auto store = test::store_holding(corpus);
    std::vector<std::byte> expected = corpus;
    const MmStat before = store->mm_stat();
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(5)).ok());
    store->mark_idle(0);
    auto report = store->recompress(grouped(16));
    REQUIRE(report.ok());
    INFO("grouped " << report->grouped << " in " << report->groups << " groups");
    REQUIRE(report->groups > kPages / 16 / 2);
    REQUIRE(report->grouped > kPages / 2);
    CHECK(report->raced == 0);
    store->compact();
    const MmStat after = store->mm_stat();
    CHECK(after.orig_data_size == before.orig_data_size);
    CHECK(after.mem_used_total < before.mem_used_total);
    test::require_stats_exact(*store);
    // Random order (cache misses) and then in order (cache hits).
    std::mt19937_64 rng(7);
    for (int n = 0; n < 2000; ++n) {
        const auto i = rng() % kPages;
        test::require_page(*store, i, test::page_of(expected, i));
    }
    test::require_identical(*store, expected);

    // Partial reads and writes inside grouped pages.
    auto& s = test::concrete(*store);
    std::uint64_t member = 0;
    while (member < kPages && !(s.shared_page(member) && s.shared_page(member)->group)) ++member;
    REQUIRE(member < kPages);
    std::vector<std::byte> piece(700);
    REQUIRE(store->read_bytes(member * kPageSize + 1000, piece).ok());
    CHECK(std::memcmp(piece.data(), expected.data() + member * kPageSize + 1000, piece.size()) == 0);
    for (std::size_t k = 0; k < piece.size(); ++k) piece[k] = std::byte(k * 7 + 1);
    REQUIRE(store->write_bytes(member * kPageSize + 1000, piece).ok());
    std::memcpy(expected.data() + member * kPageSize + 1000, piece.data(), piece.size());
    CHECK_FALSE(s.shared_page(member).has_value()); // detached into its own object
    test::require_page(*store, member, test::page_of(expected, member));
    test::require_stats_exact(*store);

    // Overwrite some members, discard others: the groups lose them, the rest is intact.
    for (std::uint64_t i = 1; i < kPages; i += 5) {
        const auto fresh = test::versioned_page(i, 99);
        std::memcpy(expected.data() + i * kPageSize, fresh.data(), kPageSize);
        REQUIRE(store->write_page(i, fresh).ok());
    }
    for (std::uint64_t i = 2; i < kPages; i += 5) {
        store->discard(i, 1);
        std::memset(expected.data() + i * kPageSize, 0, kPageSize);
    }
    test::require_stats_exact(*store);
    test::require_identical(*store, expected);

    // Discarding most of the first groups makes them sparse: the next pass splits them.
    for (std::uint64_t i = 0; i < 200; ++i)
        if (i % 4 != 0) {
            store->discard(i, 1);
            std::memset(expected.data() + i * kPageSize, 0, kPageSize);
        }
    const ObjectStat sparse = store->object_stat();
    RecompressOptions hot_only; // selects nothing new (nothing is idle): only the split runs
    auto split = store->recompress(hot_only);
    REQUIRE(split.ok());
    CHECK(split->split > 0);
    CHECK(store->object_stat().groups < sparse.groups);
    test::require_stats_exact(*store);
    store->compact();
    test::require_identical(*store, expected);

    require_nothing_left(*store, kPages);
}

TEST_CASE("identical pages are deduplicated, counted, and come apart on rewrite",
          "[store][dedup]") {
    constexpr std::uint64_t kPages = 240;
    auto store = test::make_store(kPages);
    // 200 pages from 10 distinct compressible contents, 40 from 2 incompressible ones.
    auto content = [](std::uint64_t i) {
        return i < 200 ? test::compressible_page(i % 10) : test::incompressible_page(i % 2);
    };
    for (std::uint64_t i = 0; i < kPages; ++i) REQUIRE(store->write_page(i, content(i)).ok());
    const MmStat before = store->mm_stat();
    CHECK(before.huge_pages == 40);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(3)).ok());
    store->mark_idle(0);
    RecompressOptions options;
    options.dedup = true;
    auto report = store->recompress(options);
    REQUIRE(report.ok());
    CHECK(report->deduplicated == kPages - 12);
    const ObjectStat objects = store->object_stat();
    CHECK(objects.dedup_pages == kPages - 12);
    CHECK(objects.shared_objects == 12);
    test::require_stats_exact(*store);
    CHECK(store->mm_stat().compr_data_size < before.compr_data_size / 10);
    CHECK(store->mm_stat().huge_pages == 40); // still stored raw, once
    for (std::uint64_t i = 0; i < kPages; ++i) test::require_page(*store, i, content(i));

    // Rewrite one copy: it leaves the shared object; the others still read the old content.
    const auto fresh = test::versioned_page(5, 1);
    REQUIRE(store->write_page(5, fresh).ok());
    CHECK(store->object_stat().dedup_pages == kPages - 13);
    test::require_page(*store, 5, fresh);
    test::require_page(*store, 15, content(15));
    // Partial write to a deduplicated page changes only that page.
    std::vector<std::byte> bytes(10, std::byte{0x5a});
    REQUIRE(store->write_bytes(25 * kPageSize + 100, bytes).ok());
    auto changed = content(25);
    std::memset(changed.data() + 100, 0x5a, 10);
    test::require_page(*store, 25, changed);
    test::require_page(*store, 35, content(35));
    test::require_stats_exact(*store);

    // Discard every copy of content 0 but the first: then the first too.
    for (std::uint64_t i = 10; i < 200; i += 10) store->discard(i, 1);
    test::require_stats_exact(*store);
    store->discard(0, 1);
    test::require_stats_exact(*store);
    CHECK(store->object_stat().shared_objects == 11);
    // A second pass finds the new duplicates (page 5's fresh content has none).
    REQUIRE(store->write_page(0, content(1)).ok());
    store->mark_idle(0);
    auto again = store->recompress(options);
    REQUIRE(again.ok());
    CHECK(again->deduplicated == 1);
    test::require_stats_exact(*store);
    store->clear();
    CHECK(store->object_stat().shared_objects == 0);
    CHECK(store->mm_stat().compr_data_size == 0);
}

TEST_CASE("deduplicated pages can then be grouped with the rest", "[store][dedup][multipage]") {
    constexpr std::uint64_t kPages = 256;
    auto store = test::make_store(kPages);
    auto content = [](std::uint64_t i) {
        return i % 3 == 0 ? test::compressible_page(i % 4) : test::compressible_page(1000 + i);
    };
    for (std::uint64_t i = 0; i < kPages; ++i) REQUIRE(store->write_page(i, content(i)).ok());
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(3)).ok());
    store->mark_idle(0);
    RecompressOptions options = grouped(8);
    options.dedup = true;
    auto report = store->recompress(options);
    REQUIRE(report.ok());
    CHECK(report->deduplicated > 0);
    CHECK(report->grouped > 0);
    test::require_stats_exact(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) test::require_page(*store, i, content(i));
    require_nothing_left(*store, kPages);
}

TEST_CASE("a page never tears under concurrent use while groups and duplicates form and split",
          "[store][multipage][dedup][concurrency]") {
    constexpr std::uint64_t kPages = 128;
    auto store = test::make_store(kPages);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(3)).ok());
    // Pages below kShared hold versioned (unique) contents; above it, one of a few shared ones.
    constexpr std::uint64_t kShared = 96;
    std::vector<test::Page> common;
    for (std::uint64_t k = 0; k < 4; ++k) common.push_back(test::compressible_page(100 + k));
    test::IssuedVersions issued(kPages);
    for (std::uint64_t i = 0; i < kPages; ++i) {
        const std::uint64_t version = issued.issue(i); // 1, but only pages below kShared use it
        REQUIRE(store->write_page(i, i < kShared ? test::versioned_page(i, version) : common[i % 4])
                    .ok());
    }
    std::atomic<std::uint64_t> grouped{0};
    std::atomic<std::uint64_t> deduplicated{0};
    test::ConcurrentRun run;
    run.spawn([&] {
        std::mt19937_64 rng(1);
        while (run.running()) {
            const std::uint64_t index = rng() % kPages;
            Status st;
            if (index < kShared) {
                st = store->write_page(index, test::versioned_page(index, issued.issue(index)));
            } else {
                st = store->write_page(index, common[rng() % 4]);
            }
            if (!st.ok()) run.fail();
            if (rng() % 8 == 0) store->discard(rng() % kPages, 1);
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    });
    for (int r = 0; r < 2; ++r)
        run.spawn_reader(*store, kPages, 10 + r, [&](std::uint64_t index, const test::Page& page) {
            if (index < kShared) return issued.whole(index, page);
            bool known = false;
            for (const auto& c : common) known = known || page == c;
            return known;
        });
    run.spawn([&] {
        while (run.running()) {
            store->mark_idle(0);
            RecompressOptions options;
            options.type = RecompressOptions::Type::all;
            options.group_pages = 8;
            options.dedup = true;
            auto report = store->recompress(options);
            if (!report.ok()) {
                run.fail();
            } else {
                grouped.fetch_add(report->grouped);
                deduplicated.fetch_add(report->deduplicated);
            }
            store->compact();
        }
    });
    run.run_until(
        [&] { return run.reads() > 100 && grouped.load() > 10 && deduplicated.load() > 10; },
        std::chrono::milliseconds(2000));
    INFO("reads " << run.reads() << " grouped " << grouped.load() << " deduplicated "
                  << deduplicated.load());
    REQUIRE(run.failures() == 0);
    REQUIRE(run.reads() > 100);
    REQUIRE(grouped.load() > 10);
    REQUIRE(deduplicated.load() > 10);
    test::require_stats_exact(*store);
    // Splitting what is left sparse and dropping everything leaves nothing behind.
    auto last = store->recompress({});
    (void)last; // no recomp pages selected; the split of sparse groups is what runs
    require_nothing_left(*store, kPages);
}
