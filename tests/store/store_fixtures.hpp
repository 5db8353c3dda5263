// What the store tests set up alike: a store, codec parameters, pages of the shared corpus.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "compressed_page_store.hpp"
#include "trueno/page_store.hpp"

namespace trueno::test {

// A store of `pages` pages compressing with algorithm, on two streams.
std::unique_ptr<PageStore> make_store(std::uint64_t pages, const char* algorithm = "lz4");

// The store behind the public interface, for what only it can tell (slots, codec ids).
inline store::CompressedPageStore& concrete(PageStore& store) {
    return dynamic_cast<store::CompressedPageStore&>(store);
}

inline CodecParams level(int value) {
    CodecParams params;
    params.level = value;
    return params;
}

// Page i of pages laid end to end.
inline std::span<const std::byte> page_of(const std::vector<std::byte>& pages, std::uint64_t i) {
    return std::span<const std::byte>(pages).subspan(i * kPageSize, kPageSize);
}

// The first `pages` pages of the shared corpus. The test fails when fewer can be read: a test
// that calls this must be tagged [corpus] (tests/corpus_main.cpp leaves those out, and reports
// the run as skipped, when the corpus is missing).
std::vector<std::byte> corpus_pages(std::size_t pages);

// Writes pages one by one from page first on.
void write_all(PageStore& store, const std::vector<std::byte>& pages, std::uint64_t first = 0);

// A store (as make_store) just large enough for pages, holding them.
std::unique_ptr<PageStore> store_holding(const std::vector<std::byte>& pages);

} // namespace trueno::test
