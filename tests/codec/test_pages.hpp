// Pages the codec tests run on: the real-memory corpus (first pages) and hand-made edge pages.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "trueno/page.hpp"

namespace trueno::test {

using Page = std::array<std::byte, kPageSize>;

struct Corpus {
    std::vector<Page> pages;     // empty when the corpus could not be read
    std::string missing_reason;  // why, for the skip message
};

// The first pages of shared/corpus/python-heap.pages.zst, read once per process.
const Corpus& test_corpus();
inline constexpr std::size_t kCorpusTestPages = 3000;

// Every kSpreadStride-th page of the whole corpus: its first pages are not typical of the rest.
const Corpus& spread_corpus();
inline constexpr std::size_t kSpreadStride = 10;

// Every kSpreadStride-th page of shared/corpus/redis-heap.pages.zst: memory no codec choice was
// tuned on.
const Corpus& held_out_corpus();

// Named edge pages: zeros, single bytes set, random, repeating patterns.
std::vector<std::pair<std::string, Page>> edge_pages();

Page random_page(unsigned seed);

} // namespace trueno::test
