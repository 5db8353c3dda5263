// Real memory pages through the store: every page must come back identical, and the memory
// the store holds may exceed the compressed bytes by less than 3% (kernel zsmalloc: 4-6%).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

#include "corpus_pages.hpp"
#include "store_fixtures.hpp"
#include "trueno/page_store.hpp"
#include "trueno/thread_pool.hpp"

using namespace trueno;

namespace {

// The whole corpus: the overhead bound is about stores of realistic size (the one partly
// used page per size class weighs 2% on a 10 MB store, nothing on a 35 MB one).
constexpr std::size_t kCorpusPages = 38466;

} // namespace

TEST_CASE("corpus pages round-trip with less than 3% allocator overhead", "[store][corpus]") {
    auto corpus = test::read_corpus_pages(TRUENO_CORPUS_FILE, kCorpusPages);
    INFO("corpus " TRUENO_CORPUS_FILE ": " << (corpus.ok() ? "empty" : corpus.error().message));
    REQUIRE(corpus.ok());
    REQUIRE_FALSE(corpus->empty());
    const std::vector<std::byte>& pages = *corpus;
    const std::uint64_t count = pages.size() / kPageSize;
    const char* algorithm = GENERATE("lz4", "zstd");
    const auto created = test::make_store(count, algorithm);
    PageStore& store = *created;
    ThreadPool pool(2);
    REQUIRE(store.write_pages(0, pages, pool).ok());

    std::array<std::byte, kPageSize> page;
    for (std::uint64_t i = 0; i < count; ++i) {
        REQUIRE(store.read_page(i, page).ok());
        if (std::memcmp(page.data(), pages.data() + i * kPageSize, kPageSize) != 0)
            FAIL("page " << i << " came back different");
    }
    const MmStat s = store.mm_stat();
    const std::uint64_t compressed_stored = s.compr_data_size;
    const double overhead =
        double(s.mem_used_total - compressed_stored) / double(compressed_stored);
    std::printf("corpus %s: %llu pages, orig %llu compr %llu mem_used %llu same %llu huge %llu"
                " overhead %.2f%% ratio %.2f\n",
                algorithm, static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(s.orig_data_size),
                static_cast<unsigned long long>(s.compr_data_size),
                static_cast<unsigned long long>(s.mem_used_total),
                static_cast<unsigned long long>(s.same_pages),
                static_cast<unsigned long long>(s.huge_pages), overhead * 100,
                double(s.orig_data_size) / double(s.mem_used_total));
    CHECK(s.orig_data_size == count * kPageSize);
    CHECK(s.mem_used_total >= s.compr_data_size);
    CHECK(overhead < 0.03);

    // Discarding every other page and compacting gives memory back and keeps the rest intact.
    for (std::uint64_t i = 0; i < count; i += 2) store.discard(i, 1);
    const std::uint64_t before = store.mm_stat().mem_used_total;
    store.compact();
    const MmStat after = store.mm_stat();
    CHECK(after.mem_used_total < before);
    const double overhead_after = double(after.mem_used_total - after.compr_data_size) /
                                  double(after.compr_data_size);
    std::printf("corpus %s after discarding half and compacting: mem_used %llu -> %llu, "
                "overhead %.2f%%\n",
                algorithm, static_cast<unsigned long long>(before),
                static_cast<unsigned long long>(after.mem_used_total), overhead_after * 100);
    CHECK(overhead_after < 0.05);
    for (std::uint64_t i = 1; i < count; i += 2) {
        REQUIRE(store.read_page(i, page).ok());
        if (std::memcmp(page.data(), pages.data() + i * kPageSize, kPageSize) != 0)
            FAIL("page " << i << " changed by compaction");
    }
}
