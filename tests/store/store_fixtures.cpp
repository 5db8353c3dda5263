#include "store_fixtures.hpp"

#include <catch2/catch.hpp>

#include "corpus_pages.hpp"

namespace trueno::test {

std::unique_ptr<PageStore> make_store(std::uint64_t pages, const char* algorithm) {
    StoreConfig config;
    config.disksize = pages * kPageSize;
    config.algorithm = algorithm;
    config.streams = 2;
    auto created = PageStore::create(config);
    REQUIRE(created.ok());
    return std::move(created.value());
}

std::vector<std::byte> corpus_pages(std::size_t pages) {
    auto corpus = read_corpus_pages(TRUENO_CORPUS_FILE, pages);
    INFO("corpus " TRUENO_CORPUS_FILE ": " << (corpus ? "too few pages" : corpus.error().message));
    REQUIRE(corpus.ok());
    REQUIRE(corpus->size() >= pages * kPageSize);
    return std::move(corpus.value());
}

void write_all(PageStore& store, const std::vector<std::byte>& pages, std::uint64_t first) {
    for (std::uint64_t i = 0; i < pages.size() / kPageSize; ++i)
        REQUIRE(store.write_page(first + i, page_of(pages, i).first<kPageSize>()).ok());
}

std::unique_ptr<PageStore> store_holding(const std::vector<std::byte>& pages) {
    auto store = make_store(pages.size() / kPageSize);
    write_all(*store, pages);
    return store;
}

} // namespace trueno::test
