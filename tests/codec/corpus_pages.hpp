// The measurement tools' corpus reader (adaptive-breakdown, lz4-parse-entropy): every page of a
// file of 4096-byte pages compressed with zstd, as the corpora in shared/corpus are.
#pragma once

#include <cstddef>
#include <vector>

namespace trueno::test {

// All pages of the file, minus the same-filled ones (the store keeps those without a codec),
// end to end; same_filled gets their count. Empty, with a message on stderr, when unreadable.
std::vector<std::byte> load_corpus_pages(const char* path, std::size_t& same_filled);

} // namespace trueno::test
