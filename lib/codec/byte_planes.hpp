// Byte planes: a page seen as 8-byte words, rearranged so that byte k of every word sits in
// plane k (plane k = bytes [k * words, (k + 1) * words)). Heap pages are mostly arrays of
// pointers, lengths and small integers whose high bytes repeat from word to word without the
// whole word repeating; lz4 finds no 4-byte match in them, but in the planes those bytes become
// long runs. The rearrangement is a pure permutation, so it is its own exact inverse pair.
#pragma once

#include <cstddef>
#include <span>

namespace trueno::codec_detail {

// Both need sizes that are equal and a multiple of 64 (8 words of 8 bytes); the buffers must
// not overlap.
void split_byte_planes(std::span<const std::byte> words, std::span<std::byte> planes);
void join_byte_planes(std::span<const std::byte> planes, std::span<std::byte> words);

inline constexpr std::size_t kBytePlaneBlock = 64;

} // namespace trueno::codec_detail
