// Sampled word-pair statistics and the two thresholds the adaptive codec decides by.
//
// The thresholds were chosen on shared/corpus/python-heap.pages.zst (real heap pages) and sit in
// the middle of wide plateaus, not on a knife edge: favours_byte_planes gives nearly the same
// ratio anywhere from 68/128 to 104/128 (tests/bench/RESULTS.md, "adaptive").
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

bool may_be_incompressible(const WordPairSample& sample) {
    if (sample.pairs == 0) return false;
    unsigned equal_bytes = 0;
    for (unsigned count : sample.equal_bytes) equal_bytes += count;
    // Bytes equal outside whole-word repeats below 1/16 of those sampled (random data: 1/256),
    // and whole-word repeats in under 1/64 of the pairs.
    const unsigned partial = equal_bytes - 8 * sample.equal_words;
    return partial * 16 < sample.pairs * 8 && sample.equal_words * 64 < sample.pairs;
}

bool favours_byte_planes(const WordPairSample& sample) {
    if (sample.pairs == 0) return false;
    const unsigned best = *std::max_element(sample.equal_bytes.begin(), sample.equal_bytes.end());
    // At least 11/16 of the pairs repeat that byte without repeating the whole word.
    return (best - sample.equal_words) * 16 >= sample.pairs * 11;
}

} // namespace trueno::codec_detail
