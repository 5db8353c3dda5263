// AVX2 same-fill: one 64-byte cache line per step, so a page that differs early costs one line.
#include <immintrin.h>

#include "same_fill_kernels.hpp"

namespace trueno::same_fill_detail {

__attribute__((target("avx2"))) std::optional<std::uint64_t> detect_avx2(PageView page) {
    const std::uint64_t fill = first_word(page);
    const __m256i want = _mm256_set1_epi64x(static_cast<long long>(fill));
    const auto* p = reinterpret_cast<const __m256i*>(page.data());
    for (std::size_t i = 0; i < kPageSize / sizeof(__m256i); i += 2) {
        const __m256i diff = _mm256_or_si256(_mm256_xor_si256(_mm256_loadu_si256(p + i), want),
                                             _mm256_xor_si256(_mm256_loadu_si256(p + i + 1), want));
        if (!_mm256_testz_si256(diff, diff)) return std::nullopt;
    }
    return fill;
}

__attribute__((target("avx2"))) void fill_avx2(MutablePageView page, std::uint64_t value) {
    const __m256i v = _mm256_set1_epi64x(static_cast<long long>(value));
    auto* p = reinterpret_cast<__m256i*>(page.data());
    for (std::size_t i = 0; i < kPageSize / sizeof(__m256i); ++i) _mm256_storeu_si256(p + i, v);
}

} // namespace trueno::same_fill_detail
