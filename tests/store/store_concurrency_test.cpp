// Writers, readers, discarders and compaction at once on a small set of pages. Every page
// carries its index and a version; a read must see a complete version that was written to
// that page (or zeros), never a torn or foreign page.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "concurrent_run.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;
using Clock = std::chrono::steady_clock;

TEST_CASE("concurrent writers, readers, discarders and compaction never tear a page",
          "[store][concurrency]") {
    const char* algorithm = GENERATE("lz4", "zstd");
    INFO(algorithm);
    constexpr std::uint64_t kPages = 48;
    const auto created = test::make_store(kPages, algorithm);
    PageStore& store = *created;

    test::IssuedVersions issued(kPages);
    std::atomic<std::uint64_t> writes{0};
    std::atomic<std::uint64_t> compactions{0};
    test::ConcurrentRun run;
    for (int w = 0; w < 3; ++w) {
        run.spawn([&, w] {
            std::mt19937_64 rng(w);
            while (run.running()) {
                const std::uint64_t index = rng() % kPages;
                if (!store.write_page(index, test::versioned_page(index, issued.issue(index))).ok())
                    run.fail();
                writes.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    for (int r = 0; r < 2; ++r)
        run.spawn_reader(store, kPages, 100 + r,
                         [&](std::uint64_t index, const test::Page& page) {
                             return issued.whole(index, page);
                         });
    run.spawn([&] {
        std::mt19937_64 rng(7);
        while (run.running()) {
            const std::uint64_t first = rng() % kPages;
            store.discard(first, 1 + rng() % std::min<std::uint64_t>(4, kPages - first));
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    run.spawn([&] {
        while (run.running()) {
            store.compact();
            compactions.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    });
    run.run_until(
        [&] { return run.reads() > 100 && writes.load() > 100 && compactions.load() > 5; },
        std::chrono::milliseconds(1500));
    INFO("reads " << run.reads() << " writes " << writes.load() << " compactions "
                  << compactions.load());
    REQUIRE(run.failures() == 0);
    REQUIRE(run.reads() > 100);
    REQUIRE(writes.load() > 100);
    REQUIRE(compactions.load() > 5);

    // Statistics agree with the contents once everything is quiet.
    test::Page page;
    std::uint64_t stored = 0;
    std::uint64_t same = 0;
    for (std::uint64_t i = 0; i < kPages; ++i) {
        REQUIRE(store.read_page(i, page).ok());
        if (page == test::same_filled_page(0)) continue;
        ++stored;
        std::uint64_t first = 0;
        std::memcpy(&first, page.data(), 8);
        bool all_same = true;
        for (std::size_t at = 8; at < kPageSize && all_same; at += 8)
            all_same = std::memcmp(page.data() + at, &first, 8) == 0;
        same += all_same ? 1 : 0;
    }
    MmStat s = store.mm_stat();
    CHECK(s.orig_data_size - s.same_pages * kPageSize == (stored - same) * kPageSize);
    CHECK(s.same_pages >= same); // discarded-to-zero pages are not stored; zero-filled ones are
    store.discard(0, kPages);
    store.compact();
    s = store.mm_stat();
    CHECK(s.orig_data_size == 0);
    CHECK(s.compr_data_size == 0);
    CHECK(s.mem_used_total == 0);
}

TEST_CASE("concurrent partial writes to one page lose no update", "[store][concurrency]") {
    const auto created = test::make_store(4);
    PageStore& store = *created;
    constexpr int kWriters = 4;
    std::vector<std::thread> threads;
    std::atomic<bool> failed{false};
    for (int t = 0; t < kWriters; ++t) {
        threads.emplace_back([&, t] {
            std::array<std::byte, 100> piece;
            for (std::uint64_t value = 1; value <= 3000; ++value) {
                for (std::size_t i = 0; i < piece.size(); ++i)
                    piece[i] = std::byte((value + i) & 0xff);
                // Each writer owns 100 bytes straddling the boundary of pages 1 and 2.
                if (!store.write_bytes(2 * kPageSize - 200 + t * 100, piece).ok()) failed = true;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    REQUIRE_FALSE(failed.load());
    std::array<std::byte, kWriters * 100> back;
    REQUIRE(store.read_bytes(2 * kPageSize - 200, back).ok());
    for (int t = 0; t < kWriters; ++t)
        for (std::size_t i = 0; i < 100; ++i) REQUIRE(back[t * 100 + i] == std::byte((3000 + i) & 0xff));
}
