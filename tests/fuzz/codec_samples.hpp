// What the codec_decompress target and its seed maker share: a sample page, and the zstd
// dictionary streams with dictionaries use. The seeds are only useful if both agree.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "trueno/page.hpp"

namespace trueno::fuzz {

// As lib/store/shared_objects.hpp: the most pages a multi-page object holds.
inline constexpr std::size_t kMaxGroupPages = 32;

// Something like a heap page: small integers and repeated pointers, compressible by all.
inline std::vector<std::byte> sample_page(unsigned seed = 0) {
    std::vector<std::byte> page(kPageSize);
    for (std::size_t i = 0; i < page.size(); ++i)
        page[i] = static_cast<std::byte>(i % 8 < 4 ? (i / 8 + seed) % 61 : 0x7f - i % 8);
    return page;
}

// A raw-content zstd dictionary (zstd takes any bytes as one).
inline std::shared_ptr<const std::vector<std::byte>> sample_dictionary() {
    static const auto dict = [] {
        auto bytes = std::make_shared<std::vector<std::byte>>(sample_page());
        bytes->resize(2 * kPageSize, std::byte{0x42});
        return std::shared_ptr<const std::vector<std::byte>>(std::move(bytes));
    }();
    return dict;
}

} // namespace trueno::fuzz
