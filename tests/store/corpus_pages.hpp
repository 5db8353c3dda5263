// Reads pages of the shared corpus (a zstd stream of 4096-byte pages).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::test {

// Up to max_pages whole pages from the start of the corpus; an error if it cannot be read.
Result<std::vector<std::byte>> read_corpus_pages(const std::string& path, std::size_t max_pages);

} // namespace trueno::test
