// Idle/huge recompression: every path round-trips (fresh, recompressed, each dictionary
// generation, then overwritten, discarded, partly read), statistics stay exact, the kernel's
// type/threshold/max_pages rules hold, and pages never tear under concurrent use.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "compressed_page_store.hpp"
#include "corpus_pages.hpp"
#include "store_checks.hpp"
#include "test_pages.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;
using store::CompressedPageStore;

namespace {

std::unique_ptr<PageStore> make_store(std::uint64_t pages, const char* algorithm = "lz4") {
    StoreConfig config;
    config.disksize = pages * kPageSize;
    config.algorithm = algorithm;
    config.streams = 2;
    auto created = PageStore::create(config);
    REQUIRE(created.ok());
    return std::move(created.value());
}

CompressedPageStore& concrete(PageStore& store) { return dynamic_cast<CompressedPageStore&>(store); }

CodecParams level(int value) {
    CodecParams params;
    params.level = value;
    return params;
}

void require_stats_match_contents(PageStore& store) { test::require_stats_exact(store); }

void require_page(PageStore& store, std::uint64_t index, std::span<const std::byte> expected) {
    test::Page page;
    auto status = store.read_page(index, page);
    INFO("page " << index << (status.ok() ? "" : ": " + status.error().message));
    REQUIRE(status.ok());
    REQUIRE(std::memcmp(page.data(), expected.data(), kPageSize) == 0);
}

std::span<const std::byte> page_of(const std::vector<std::byte>& pages, std::uint64_t i) {
    return std::span<const std::byte>(pages).subspan(i * kPageSize, kPageSize);
}

} // namespace

TEST_CASE("recompress without a recomp algorithm or with bad options is EINVAL", "[store][recompress]") {
    auto store = make_store(16);
    auto none = store->recompress({});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(0, "zstd", {}).error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(4, "zstd", {}).error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(1, "nope", {}).error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(1, "zstd", level(99)).error().code == EINVAL);
    REQUIRE(store->set_recomp_algorithm(1, "lz4hc", {}).ok());
    CHECK(store->train_recomp_dictionary(1, 4096, 64).error().code == EINVAL); // lz4hc: no dict
    CHECK(store->train_recomp_dictionary(2, 4096, 64).error().code == EINVAL); // not set
    RecompressOptions options;
    options.threshold = kPageSize + 1;
    CHECK(store->recompress(options).error().code == EINVAL);
    options = {};
    options.priority = 2;
    CHECK(store->recompress(options).error().code == EINVAL);
}

TEST_CASE("idle corpus pages recompress smaller, read back identical, stats exact",
          "[store][recompress]") {
    constexpr std::size_t kPages = 1500;
    auto corpus = test::read_corpus_pages(TRUENO_CORPUS_FILE, kPages);
    if (!corpus.ok() || corpus->size() < kPages * kPageSize) {
        WARN("SKIPPED: corpus not available");
        return;
    }
    auto store = make_store(kPages);
    for (std::uint64_t i = 0; i < kPages; ++i) REQUIRE(store->write_page(i, page_of(*corpus, i).first<kPageSize>()).ok());
    const MmStat before = store->mm_stat();
    REQUIRE(store->set_recomp_algorithm(1, "zstd", level(12)).ok());

    // Pages read after mark_idle are not idle any more and must be left alone.
    REQUIRE(store->mark_idle(0) == kPages - before.same_pages + before.same_pages);
    test::Page scratch;
    for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(store->read_page(i, scratch).ok());
    auto report = store->recompress({});
    REQUIRE(report.ok());
    INFO("tried " << report->tried << " kept " << report->kept);
    CHECK(report->kept > kPages / 2);
    CHECK(report->raced == 0);
    CHECK(report->bytes_after < report->bytes_before);
    for (std::uint64_t i = 0; i < 100; ++i) CHECK(concrete(*store).codec_id(i) == 0);

    const MmStat after = store->mm_stat();
    CHECK(after.orig_data_size == before.orig_data_size);
    CHECK(after.same_pages == before.same_pages);
    CHECK(before.compr_data_size - after.compr_data_size == report->bytes_before - report->bytes_after);
    require_stats_match_contents(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) require_page(*store, i, page_of(*corpus, i));

    // Recompressed (or found incompressible) pages are done at this priority: a second run
    // tries only the 100 pages that were not idle the first time...
    store->mark_idle(0);
    auto again = store->recompress({});
    REQUIRE(again.ok());
    CHECK(again->tried <= 100);
    CHECK(again->tried > 0); // same-filled pages among them have no object
    // ...but a higher priority may recompress them further.
    REQUIRE(store->set_recomp_algorithm(2, "zstd", level(19)).ok());
    RecompressOptions higher;
    higher.priority = 2;
    auto strongest = store->recompress(higher);
    REQUIRE(strongest.ok());
    CHECK(strongest->tried > 0);
    require_stats_match_contents(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) require_page(*store, i, page_of(*corpus, i));
}

TEST_CASE("type, threshold and max_pages select pages as the kernel does", "[store][recompress]") {
    constexpr std::uint64_t kPages = 64;
    auto store = make_store(kPages);
    std::vector<test::Page> pages;
    for (std::uint64_t i = 0; i < kPages; ++i) {
        pages.push_back(i % 4 == 0 ? test::incompressible_page(i) : test::compressible_page(i));
        REQUIRE(store->write_page(i, pages.back()).ok());
    }
    REQUIRE(store->mm_stat().huge_pages == kPages / 4);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", level(5)).ok());

    RecompressOptions options;
    options.type = RecompressOptions::Type::huge_idle; // nothing is idle yet
    CHECK(store->recompress(options)->tried == 0);
    options.type = RecompressOptions::Type::huge;
    auto huge = store->recompress(options);
    REQUIRE(huge.ok());
    CHECK(huge->tried == kPages / 4);
    CHECK(huge->kept == 0); // random bytes do not shrink: marked and skipped from now on
    CHECK(store->recompress(options)->tried == 0);
    CHECK(store->mm_stat().huge_pages == kPages / 4);

    options.type = RecompressOptions::Type::all;
    options.max_pages = 5;
    CHECK(store->recompress(options)->tried == 5);
    options.max_pages = 0;
    options.threshold = kPageSize; // only objects of 4096 bytes: the huge ones, all marked
    CHECK(store->recompress(options)->tried == 0);
    options.threshold = 0;
    auto rest = store->recompress(options);
    REQUIRE(rest.ok());
    CHECK(rest->tried == kPages - kPages / 4 - 5);
    require_stats_match_contents(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) require_page(*store, i, pages[i]);

    // A rewrite clears the incompressible mark: the page is a candidate again.
    REQUIRE(store->write_page(0, test::incompressible_page(1000)).ok());
    options.type = RecompressOptions::Type::huge;
    CHECK(store->recompress(options)->tried == 1);
}

TEST_CASE("pages of every dictionary generation decode, then survive overwrite, discard and "
          "partial reads", "[store][recompress][dictionary]") {
    constexpr std::size_t kPages = 1200;
    auto corpus = test::read_corpus_pages(TRUENO_CORPUS_FILE, kPages);
    if (!corpus.ok() || corpus->size() < kPages * kPageSize) {
        WARN("SKIPPED: corpus not available");
        return;
    }
    auto store = make_store(kPages);
    auto& s = concrete(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) REQUIRE(store->write_page(i, page_of(*corpus, i).first<kPageSize>()).ok());
    REQUIRE(store->set_recomp_algorithm(1, "zstd", level(3)).ok());

    // Generation 1 without a dictionary on the first pages, then two trained generations,
    // each recompressing the next share of the device.
    std::vector<unsigned> ids_seen;
    RecompressOptions options;
    options.type = RecompressOptions::Type::all;
    options.max_pages = 300;
    for (int generation = 0; generation < 3; ++generation) {
        if (generation > 0) {
            auto trained = store->train_recomp_dictionary(1, 16 * 1024, 400);
            REQUIRE(trained.ok());
            CHECK(*trained > 1024);
        }
        auto report = store->recompress(options);
        REQUIRE(report.ok());
        CHECK(report->tried == 300);
    }
    std::vector<std::uint64_t> per_id(store::RecompCodecs::kMaxIds + 1, 0);
    for (std::uint64_t i = 0; i < kPages; ++i) ++per_id[s.codec_id(i)];
    INFO("pages per codec id: 0:" << per_id[0] << " 1:" << per_id[1] << " 2:" << per_id[2]
                                  << " 3:" << per_id[3]);
    CHECK(per_id[1] > 100);
    CHECK(per_id[2] > 100);
    CHECK(per_id[3] > 100);
    for (std::uint64_t i = 0; i < kPages; ++i) require_page(*store, i, page_of(*corpus, i));
    require_stats_match_contents(*store);

    // Overwrite, discard and partly read pages of each generation.
    std::vector<std::byte> expected(*corpus);
    for (std::uint64_t i = 0; i < kPages; i += 7) {
        auto page = test::compressible_page(i + 99);
        std::memcpy(expected.data() + i * kPageSize, page.data(), kPageSize);
        REQUIRE(store->write_page(i, page).ok());
        CHECK(s.codec_id(i) == 0);
    }
    for (std::uint64_t i = 3; i < kPages; i += 11) {
        store->discard(i, 1);
        std::memset(expected.data() + i * kPageSize, 0, kPageSize);
    }
    const std::array<std::byte, 5> patch{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}, std::byte{5}};
    for (std::uint64_t i = 5; i < kPages; i += 13) {
        REQUIRE(store->write_bytes(i * kPageSize + 4093, patch).ok()); // straddles two pages
        std::memcpy(expected.data() + i * kPageSize + 4093, patch.data(), patch.size());
    }
    for (std::uint64_t offset = 100; offset + 6000 < kPages * kPageSize; offset += 97 * kPageSize + 1) {
        std::vector<std::byte> part(6000);
        REQUIRE(store->read_bytes(offset, part).ok());
        REQUIRE(std::memcmp(part.data(), expected.data() + offset, part.size()) == 0);
    }
    for (std::uint64_t i = 0; i < kPages; ++i) require_page(*store, i, page_of(expected, i));
    require_stats_match_contents(*store);
}

TEST_CASE("a page never tears under concurrent reads, writes, discards and recompression",
          "[store][recompress][concurrency]") {
    constexpr std::uint64_t kPages = 64;
    auto store = make_store(kPages);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", level(9)).ok());
    REQUIRE(store->set_recomp_algorithm(2, "deflate", {}).ok());
    std::vector<std::atomic<std::uint64_t>> issued(kPages);
    for (std::uint64_t i = 0; i < kPages; ++i) {
        issued[i].store(1);
        REQUIRE(store->write_page(i, test::versioned_page(i, 1)).ok());
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> reads{0};
    std::atomic<std::uint64_t> kept{0};
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
        std::mt19937_64 rng(1);
        while (!stop.load(std::memory_order_relaxed)) {
            const std::uint64_t index = rng() % kPages;
            const std::uint64_t version = issued[index].fetch_add(1) + 1;
            if (!store->write_page(index, test::versioned_page(index, version)).ok()) failures.fetch_add(1);
            if (rng() % 8 == 0) store->discard(rng() % kPages, 1);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    });
    for (int r = 0; r < 2; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937_64 rng(10 + r);
            test::Page page;
            const test::Page zero = test::same_filled_page(0);
            while (!stop.load(std::memory_order_relaxed)) {
                const std::uint64_t index = rng() % kPages;
                if (!store->read_page(index, page).ok()) {
                    failures.fetch_add(1);
                    continue;
                }
                reads.fetch_add(1, std::memory_order_relaxed);
                if (page == zero) continue;
                const auto id = test::identify(page);
                if (id.index != index || id.version == 0 || id.version > issued[index].load() ||
                    page != test::versioned_page(index, id.version))
                    failures.fetch_add(1);
            }
        });
    }
    threads.emplace_back([&] {
        unsigned round = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            store->mark_idle(0);
            RecompressOptions options;
            options.type = RecompressOptions::Type::all;
            options.priority = 1 + (round++ % 2);
            auto report = store->recompress(options);
            if (!report.ok()) failures.fetch_add(1);
            else kept.fetch_add(report->kept);
            store->compact();
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop.store(true);
    for (auto& thread : threads) thread.join();
    INFO("reads " << reads.load() << " recompressed " << kept.load());
    REQUIRE(failures.load() == 0);
    REQUIRE(reads.load() > 100);
    REQUIRE(kept.load() > 10);
    require_stats_match_contents(*store);
}

TEST_CASE("named policies exist, and running one raises the ratio of idle corpus pages",
          "[store][recompress][policy]") {
    CHECK(recompress_policy_names() == "fast balanced strong strongest");
    CHECK(find_recompress_policy("nope") == nullptr);
    for (const auto& policy : recompress_policies()) {
        INFO(policy.name);
        REQUIRE(find_recompress_policy(policy.name) == &policy);
        CHECK(make_codec(policy.algorithm, level(policy.level)).ok());
    }
    constexpr std::size_t kPages = 3000;
    auto corpus = test::read_corpus_pages(TRUENO_CORPUS_FILE, kPages);
    if (!corpus.ok() || corpus->size() < kPages * kPageSize) {
        WARN("SKIPPED: corpus not available");
        return;
    }
    auto store = make_store(kPages);
    for (std::uint64_t i = 0; i < kPages; ++i) REQUIRE(store->write_page(i, page_of(*corpus, i).first<kPageSize>()).ok());
    const MmStat before = store->mm_stat();
    store->mark_idle(0);
    auto report = run_recompress_policy(*store, *find_recompress_policy("strong"), {});
    REQUIRE(report.ok());
    CHECK(report->kept > kPages / 2);
    CHECK(report->cpu_seconds > 0);
    const MmStat after = store->mm_stat();
    INFO("mem_used " << before.mem_used_total << " -> " << after.mem_used_total);
    CHECK(after.orig_data_size == before.orig_data_size);
    CHECK(after.mem_used_total * 5 < before.mem_used_total * 4); // at least 20% less memory
    require_stats_match_contents(*store);
    for (std::uint64_t i = 0; i < kPages; ++i) require_page(*store, i, page_of(*corpus, i));
}
