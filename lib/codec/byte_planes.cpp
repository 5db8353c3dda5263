// Byte planes by 8x8 byte transposes in 64-bit registers: portable (no intrinsics) and about a
// microsecond per page, well below one lz4 call.
#include "byte_planes.hpp"

#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>

namespace trueno::codec_detail {
namespace {

// Swaps the bytes of an 8x8 block held as 8 little-endian rows: row r byte c <-> row c byte r.
// Three rounds of masked swaps (1-byte, 2-byte, 4-byte blocks); a transpose is its own inverse.
void transpose_8x8(std::uint64_t (&row)[8]) {
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
    for (std::size_t block = 0; block < words.size() / kBytePlaneBlock; ++block) {
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
    for (std::size_t block = 0; block < words.size() / kBytePlaneBlock; ++block) {
        std::uint64_t row[8];
        for (std::size_t plane = 0; plane < 8; ++plane)
            std::memcpy(&row[plane], planes.data() + plane * plane_size + block * 8, 8);
        transpose_8x8(row);
        std::memcpy(words.data() + block * kBytePlaneBlock, row, sizeof row);
    }
}

} // namespace trueno::codec_detail
