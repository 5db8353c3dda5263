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
#include "concurrent_run.hpp"
#include "store_checks.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;

namespace {

void require_stats_match_contents(PageStore& store) { test::require_stats_exact(store); }

} // namespace

TEST_CASE("recompress without a recomp algorithm or with bad options is EINVAL", "[store][recompress]") {
    auto store = test::make_store(16);
    auto none = store->recompress({});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(0, "zstd", {}).error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(4, "zstd", {}).error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(1, "nope", {}).error().code == EINVAL);
    CHECK(store->set_recomp_algorithm(1, "zstd", test::level(99)).error().code == EINVAL);
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
          "[store][recompress][corpus]") {
    constexpr std::size_t kPages = 1500;
    const auto corpus = test::corpus_pages(kPages);
    auto store = test::store_holding(corpus);
    const MmStat before = store->mm_stat();
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(12)).ok());

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
    for (std::uint64_t i = 0; i < 100; ++i) CHECK(test::concrete(*store).codec_id(i) == 0);

    const MmStat after = store->mm_stat();
    CHECK(after.orig_data_size == before.orig_data_size);
    CHECK(after.same_pages == before.same_pages);
    CHECK(before.compr_data_size - after.compr_data_size == report->bytes_before - report->bytes_after);
    require_stats_match_contents(*store);
    test::require_identical(*store, corpus);

    // Recompressed (or found incompressible) pages are done at this priority: a second run
    // tries only the 100 pages that were not idle the first time...
    store->mark_idle(0);
    auto again = store->recompress({});
    REQUIRE(again.ok());
    CHECK(again->tried <= 100);
    CHECK(again->tried > 0); // same-filled pages among them have no object
    // ...but a higher priority may recompress them further.
    REQUIRE(store->set_recomp_algorithm(2, "zstd", test::level(19)).ok());
    RecompressOptions higher;
    higher.priority = 2;
    auto strongest = store->recompress(higher);
    REQUIRE(strongest.ok());
    CHECK(strongest->tried > 0);
    require_stats_match_contents(*store);
    test::require_identical(*store, corpus);
}

TEST_CASE("type, threshold and max_pages select pages as the kernel does", "[store][recompress]") {
    constexpr std::uint64_t kPages = 64;
    auto store = test::make_store(kPages);
    std::vector<test::Page> pages;
    for (std::uint64_t i = 0; i < kPages; ++i) {
        pages.push_back(i % 4 == 0 ? test::incompressible_page(i) : test::compressible_page(i));
        REQUIRE(store->write_page(i, pages.back()).ok());
    }
    REQUIRE(store->mm_stat().huge_pages == kPages / 4);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(5)).ok());

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
    for (std::uint64_t i = 0; i < kPages; ++i) test::require_page(*store, i, pages[i]);

    // A rewrite clears the incompressible mark: the page is a candidate again.
    REQUIRE(store->write_page(0, test::incompressible_page(1000)).ok());
    options.type = RecompressOptions::Type::huge;
    CHECK(store->recompress(options)->tried == 1);
}

TEST_CASE("pages of every dictionary generation decode, then survive overwrite, discard and "
          "partial reads", "[store][recompress][dictionary][corpus]") {
    constexpr std::size_t kPages = 1200;
    const auto corpus = test::corpus_pages(kPages);
    auto store = test::store_holding(corpus);
    auto& s = test::concrete(*store);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(3)).ok());

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
    test::require_identical(*store, corpus);
    require_stats_match_contents(*store);

    // Overwrite, discard and partly read pages of each generation.
    std::vector<std::byte> expected(corpus);
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
    test::require_identical(*store, expected);
    require_stats_match_contents(*store);
}

TEST_CASE("a page never tears under concurrent reads, writes, discards and recompression",
          "[store][recompress][concurrency]") {
    constexpr std::uint64_t kPages = 64;
    auto store = test::make_store(kPages);
    REQUIRE(store->set_recomp_algorithm(1, "zstd", test::level(9)).ok());
    REQUIRE(store->set_recomp_algorithm(2, "deflate", {}).ok());
    test::IssuedVersions issued(kPages);
    for (std::uint64_t i = 0; i < kPages; ++i)
        REQUIRE(store->write_page(i, test::versioned_page(i, issued.issue(i))).ok());
    std::atomic<std::uint64_t> kept{0};
    test::ConcurrentRun run;
    run.spawn([&] {
        std::mt19937_64 rng(1);
        while (run.running()) {
            const std::uint64_t index = rng() % kPages;
            if (!store->write_page(index, test::versioned_page(index, issued.issue(index))).ok())
                run.fail();
            if (rng() % 8 == 0) store->discard(rng() % kPages, 1);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    });
    for (int r = 0; r < 2; ++r)
        run.spawn_reader(*store, kPages, 10 + r, [&](std::uint64_t index, const test::Page& page) {
            return issued.whole(index, page);
        });
    run.spawn([&] {
        unsigned round = 0;
        while (run.running()) {
            store->mark_idle(0);
            RecompressOptions options;
            options.type = RecompressOptions::Type::all;
            options.priority = 1 + (round++ % 2);
            auto report = store->recompress(options);
            if (!report.ok()) run.fail();
            else kept.fetch_add(report->kept);
            store->compact();
        }
    });
    run.run_until([&] { return run.reads() > 100 && kept.load() > 10; },
                  std::chrono::milliseconds(1500));
    INFO("reads " << run.reads() << " recompressed " << kept.load());
    REQUIRE(run.failures() == 0);
    REQUIRE(run.reads() > 100);
    REQUIRE(kept.load() > 10);
    require_stats_match_contents(*store);
}

TEST_CASE("named policies exist and name codecs that can be made", "[store][recompress][policy]") {
    CHECK(recompress_policy_names() == "fast balanced strong strongest");
    CHECK(find_recompress_policy("nope") == nullptr);
    for (const auto& policy : recompress_policies()) {
        INFO(policy.name);
        REQUIRE(find_recompress_policy(policy.name) == &policy);
        CHECK(make_codec(policy.algorithm, test::level(policy.level)).ok());
    }
}

TEST_CASE("running a named policy raises the ratio of idle corpus pages",
          "[store][recompress][policy][corpus]") {
    constexpr std::size_t kPages = 3000;
    const auto corpus = test::corpus_pages(kPages);
    auto store = test::store_holding(corpus);
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
    test::require_identical(*store, corpus);
}
