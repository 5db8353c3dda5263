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

#include "test_pages.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;
using Clock = std::chrono::steady_clock;

TEST_CASE("concurrent writers, readers, discarders and compaction never tear a page",
          "[store][concurrency]") {
    const char* algorithm = GENERATE("lz4", "zstd");
    INFO(algorithm);
    constexpr std::uint64_t kPages = 48;
    StoreConfig config;
    config.disksize = kPages * kPageSize;
    config.algorithm = algorithm;
    config.streams = 2;
    auto created = PageStore::create(config);
    REQUIRE(created.ok());
    PageStore& store = **created;

    // Highest version handed out per page: a read may never see one above it.
    std::vector<std::atomic<std::uint64_t>> issued(kPages);
    for (auto& v : issued) v.store(0);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> reads{0};
    std::atomic<std::uint64_t> writes{0};
    std::atomic<std::uint64_t> compactions{0};
    auto fail = [&](const std::string&) { failures.fetch_add(1); };

    std::vector<std::thread> threads;
    for (int w = 0; w < 3; ++w) {
        threads.emplace_back([&, w] {
            std::mt19937_64 rng(w);
            while (!stop.load(std::memory_order_relaxed)) {
                const std::uint64_t index = rng() % kPages;
                const std::uint64_t version = issued[index].fetch_add(1) + 1;
                if (!store.write_page(index, test::versioned_page(index, version)).ok())
                    fail("write");
                writes.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    for (int r = 0; r < 2; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937_64 rng(100 + r);
            test::Page page;
            const test::Page zero = test::same_filled_page(0);
            while (!stop.load(std::memory_order_relaxed)) {
                const std::uint64_t index = rng() % kPages;
                if (!store.read_page(index, page).ok()) {
                    fail("read");
                    continue;
                }
                reads.fetch_add(1, std::memory_order_relaxed);
                if (page == zero) continue; // unwritten or discarded
                const auto id = test::identify(page);
                if (id.index != index || id.version == 0 || id.version > issued[index].load() ||
                    page != test::versioned_page(index, id.version))
                    fail("torn or foreign page");
            }
        });
    }
    threads.emplace_back([&] {
        std::mt19937_64 rng(7);
        while (!stop.load(std::memory_order_relaxed)) {
            const std::uint64_t first = rng() % kPages;
            store.discard(first, 1 + rng() % std::min<std::uint64_t>(4, kPages - first));
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    threads.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) {
            store.compact();
            compactions.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop.store(true);
    for (auto& thread : threads) thread.join();
    INFO("reads " << reads.load() << " writes " << writes.load() << " compactions "
                  << compactions.load());
    REQUIRE(failures.load() == 0);
    REQUIRE(reads.load() > 100);
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
    StoreConfig config;
    config.disksize = 4 * kPageSize;
    config.algorithm = "lz4";
    config.streams = 2;
    auto created = PageStore::create(config);
    REQUIRE(created.ok());
    PageStore& store = **created;
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
