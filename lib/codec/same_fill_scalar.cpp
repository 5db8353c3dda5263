// Portable same-fill detection and fill: the reference the vector versions are tested against.
#include <cstring>

#include "same_fill_kernels.hpp"

namespace trueno::same_fill_detail {

std::uint64_t first_word(PageView page) {
    std::uint64_t word;
    std::memcpy(&word, page.data(), sizeof word);
    return word;
}

std::optional<std::uint64_t> detect_scalar(PageView page) {
    const std::uint64_t fill = first_word(page);
    for (std::size_t off = sizeof fill; off < kPageSize; off += sizeof fill) {
        std::uint64_t word;
        std::memcpy(&word, page.data() + off, sizeof word);
        if (word != fill) return std::nullopt; // most pages differ early: stop at once
    }
    return fill;
}

void fill_scalar(MutablePageView page, std::uint64_t value) {
    for (std::size_t off = 0; off < kPageSize; off += sizeof value)
        std::memcpy(page.data() + off, &value, sizeof value);
}

} // namespace trueno::same_fill_detail
