// Byte planes. With SSE2 (every x86-64 CPU): blocks of 16 words go through rounds of byte
// interleaves, ~0.3 us per page; the read path pays this on every byte-planes page, so it must
// stay far below an lz4 decode. Elsewhere: 8x8 byte transposes in 64-bit registers.
#include "byte_planes.hpp"

#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace trueno::codec_detail {
namespace {

#if defined(__SSE2__)
constexpr std::size_t kVectorBlock = 128; // 16 words in 8 registers

// Written out in full so the 8 vectors stay in registers (as loops over an array GCC kept them
// in memory: 10x slower).
struct Block {
    __m128i r0, r1, r2, r3, r4, r5, r6, r7;
};

// One round: byte k of the 128-byte block moves so that its 7-bit address rotates left by
// one. Four rounds turn 16 rows of 8 bytes into 8 rows of 16 (address bits word:4|byte:3 ->
// byte:3|word:4); three rounds undo that, since 4 + 3 = 7.
[[gnu::always_inline]] inline Block interleave_round(const Block& v) {
    return {_mm_unpacklo_epi8(v.r0, v.r4), _mm_unpackhi_epi8(v.r0, v.r4),
            _mm_unpacklo_epi8(v.r1, v.r5), _mm_unpackhi_epi8(v.r1, v.r5),
            _mm_unpacklo_epi8(v.r2, v.r6), _mm_unpackhi_epi8(v.r2, v.r6),
            _mm_unpacklo_epi8(v.r3, v.r7), _mm_unpackhi_epi8(v.r3, v.r7)};
}

// Loads 8 vectors from base + i * stride, and stores them likewise.
[[gnu::always_inline]] inline Block load_block(const std::byte* base, std::size_t stride) {
    auto at = [&](std::size_t i) {
        return _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i * stride));
    };
    return {at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)};
}

[[gnu::always_inline]] inline void store_block(const Block& v, std::byte* base, std::size_t stride) {
    const __m128i rows[8] = {v.r0, v.r1, v.r2, v.r3, v.r4, v.r5, v.r6, v.r7};
    for (std::size_t i = 0; i < 8; ++i)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(base + i * stride), rows[i]);
}
#endif

// Swaps the bytes of an 8x8 block held as 8 little-endian rows: row r byte c <-> row c byte r.
// Three rounds of masked swaps (1-byte, 2-byte, 4-byte blocks); a transpose is its own inverse.
[[gnu::always_inline]] inline void transpose_8x8(std::uint64_t (&row)[8]) {
    for (int i = 0; i < 8; i += 2) {
        const std::uint64_t t = ((row[i] >> 8) ^ row[i + 1]) & 0x00FF00FF00FF00FFull;
        row[i + 1] ^= t;
        row[i] ^= t << 8;
    }
    for (int i = 0; i < 8; i += 4) {
        for (int k = 0; k < 2; ++k) {
            const std::uint64_t t = ((row[i + k] >> 16) ^ row[i + k + 2]) & 0x0000FFFF0000FFFFull;
            row[i + k + 2] ^= t;
            row[i + k] ^= t << 16;
        }
    }
    for (int k = 0; k < 4; ++k) {
        const std::uint64_t t = ((row[k] >> 32) ^ row[k + 4]) & 0x00000000FFFFFFFFull;
        row[k + 4] ^= t;
        row[k] ^= t << 32;
    }
}

} // namespace

// The transposes index bytes by shifts, which matches memory order only on little-endian.
static_assert(std::endian::native == std::endian::little, "byte planes assume little-endian");

void split_byte_planes(std::span<const std::byte> words, std::span<std::byte> planes) {
    assert(words.size() == planes.size() && words.size() % kBytePlaneBlock == 0);
    const std::size_t plane_size = words.size() / 8;
    std::size_t done = 0;
#if defined(__SSE2__)
    for (; done + kVectorBlock <= words.size(); done += kVectorBlock) {
        Block v = load_block(words.data() + done, 16);
        v = interleave_round(interleave_round(interleave_round(interleave_round(v))));
        store_block(v, planes.data() + done / 8, plane_size);
    }
#endif
    for (std::size_t block = done / kBytePlaneBlock; block < words.size() / kBytePlaneBlock; ++block) {
        std::uint64_t row[8];
        std::memcpy(row, words.data() + block * kBytePlaneBlock, sizeof row);
        transpose_8x8(row);
        for (std::size_t plane = 0; plane < 8; ++plane)
            std::memcpy(planes.data() + plane * plane_size + block * 8, &row[plane], 8);
    }
}

void join_byte_planes(std::span<const std::byte> planes, std::span<std::byte> words) {
    assert(words.size() == planes.size() && words.size() % kBytePlaneBlock == 0);
    const std::size_t plane_size = words.size() / 8;
    std::size_t done = 0;
#if defined(__SSE2__)
    for (; done + kVectorBlock <= words.size(); done += kVectorBlock) {
        Block v = load_block(planes.data() + done / 8, plane_size);
        v = interleave_round(interleave_round(interleave_round(v)));
        store_block(v, words.data() + done, 16);
    }
#endif
    for (std::size_t block = done / kBytePlaneBlock; block < words.size() / kBytePlaneBlock; ++block) {
        std::uint64_t row[8];
        for (std::size_t plane = 0; plane < 8; ++plane)
            std::memcpy(&row[plane], planes.data() + plane * plane_size + block * 8, 8);
        transpose_8x8(row);
        std::memcpy(words.data() + block * kBytePlaneBlock, row, sizeof row);
    }
}

} // namespace trueno::codec_detail
