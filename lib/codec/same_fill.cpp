// Same-fill public API: picks the widest implementation this CPU runs, once.
#include "trueno/same_fill.hpp"

#include "same_fill_kernels.hpp"

namespace trueno {
namespace {

struct SameFillImpl {
    std::optional<std::uint64_t> (*detect)(PageView);
    void (*fill)(MutablePageView, std::uint64_t);
    std::string_view name;
};

SameFillImpl choose() {
    using namespace same_fill_detail;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return {detect_avx512, fill_avx512, "avx512"};
    if (__builtin_cpu_supports("avx2")) return {detect_avx2, fill_avx2, "avx2"};
#endif
    return {detect_scalar, fill_scalar, "scalar"};
}

const SameFillImpl& impl() {
    static const SameFillImpl chosen = choose(); // thread-safe one-time init
    return chosen;
}

} // namespace

std::optional<std::uint64_t> same_fill_value(PageView page) { return impl().detect(page); }

void fill_page(MutablePageView page, std::uint64_t value) { impl().fill(page, value); }

std::string_view same_fill_implementation() { return impl().name; }

std::optional<std::uint64_t> same_fill_value_scalar(PageView page) {
    return same_fill_detail::detect_scalar(page);
}

} // namespace trueno
