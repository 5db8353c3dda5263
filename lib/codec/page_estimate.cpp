// Sampled word-pair statistics and the threshold the adaptive codec shortlists pages by.
//
// The threshold was chosen on shared/corpus/python-heap.pages.zst (real heap pages) and sits in
// the middle of a wide plateau there (nearly the same ratio anywhere from 68/128 to 104/128).
// On other memory it shortlists many pages that lz4 compresses better whole, so the codec
// checks each shortlisted page with a trial (adaptive_codec.cpp; tests/bench/RESULTS.md).
#include "page_estimate.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "trueno/page.hpp"

namespace trueno::codec_detail {
namespace {

constexpr std::size_t kWordBytes = 8;
constexpr std::size_t kSampleStride = 4; // words between sampled pairs
constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;

// 0x80 in every byte lane of x that is zero, 0 elsewhere (no carries cross lanes).
std::uint64_t zero_byte_marks(std::uint64_t x) { return ~(((x & kLow7) + kLow7) | x | kLow7); }

std::uint64_t load_word(std::span<const std::byte> page, std::size_t word) {
    std::uint64_t value;
    std::memcpy(&value, page.data() + word * kWordBytes, sizeof value);
    return value;
}

} // namespace

WordPairSample sample_word_pairs(std::span<const std::byte> page) {
    WordPairSample sample;
    if (page.size() != kPageSize) return sample;
    // One counter byte per byte position: 128 sampled pairs per page cannot overflow 255.
    static_assert(kPageSize / kWordBytes / kSampleStride < 256);
    std::uint64_t lane_counts = 0;
    for (std::size_t word = 1; word < kPageSize / kWordBytes; word += kSampleStride) {
        const std::uint64_t diff = load_word(page, word) ^ load_word(page, word - 1);
        lane_counts += zero_byte_marks(diff) >> 7;
        sample.equal_words += diff == 0;
        ++sample.pairs;
    }
    for (std::size_t lane = 0; lane < 8; ++lane)
        sample.equal_bytes[lane] = static_cast<unsigned>((lane_counts >> (8 * lane)) & 0xFF);
    return sample;
}

bool favours_byte_planes(const WordPairSample& sample) {
    if (sample.pairs == 0) return false;
    const unsigned best = *std::max_element(sample.equal_bytes.begin(), sample.equal_bytes.end());
    // At least 11/16 of the pairs repeat that byte without repeating the whole word.
    return (best - sample.equal_words) * 16 >= sample.pairs * 11;
}

} // namespace trueno::codec_detail
