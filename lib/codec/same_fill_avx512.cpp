// AVX-512 same-fill: a whole cache line per compare. Built on every x86-64 compiler; only run
// when the CPU reports avx512f and avx512bw (see same_fill.cpp).
#include <immintrin.h>

#include "same_fill_kernels.hpp"

namespace trueno::same_fill_detail {

__attribute__((target("avx512f,avx512bw"))) std::optional<std::uint64_t>
detect_avx512(PageView page) {
    const std::uint64_t fill = first_word(page);
    const __m512i want = _mm512_set1_epi64(static_cast<long long>(fill));
    const auto* p = reinterpret_cast<const __m512i*>(page.data());
    for (std::size_t i = 0; i < kPageSize / sizeof(__m512i); ++i) {
        if (_mm512_cmpneq_epi64_mask(_mm512_loadu_si512(p + i), want) != 0) return std::nullopt;
    }
    return fill;
}

__attribute__((target("avx512f,avx512bw"))) void fill_avx512(MutablePageView page,
                                                            std::uint64_t value) {
    const __m512i v = _mm512_set1_epi64(static_cast<long long>(value));
    auto* p = reinterpret_cast<__m512i*>(page.data());
    for (std::size_t i = 0; i < kPageSize / sizeof(__m512i); ++i) _mm512_storeu_si512(p + i, v);
}

} // namespace trueno::same_fill_detail
