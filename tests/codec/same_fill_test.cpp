// Same-fill: the dispatched implementation agrees with the scalar one everywhere it matters.
#include <catch2/catch.hpp>

#include <cstring>

#include "codec_checks.hpp"
#include "same_fill_kernels.hpp" // internal: to run each implementation directly
#include "test_pages.hpp"
#include "trueno/same_fill.hpp"

using namespace trueno;
using namespace trueno::test;

namespace {

Page filled(std::uint64_t value) {
    Page page;
    for (std::size_t i = 0; i < kPageSize; i += 8) std::memcpy(page.data() + i, &value, 8);
    return page;
}

void require_agree(PageView page, std::optional<std::uint64_t> expected) {
    REQUIRE(same_fill_value_scalar(page) == expected);
    REQUIRE(same_fill_value(page) == expected);
}

} // namespace

TEST_CASE("the dispatcher picks what this CPU supports", "[same_fill]") {
    const std::string_view impl = same_fill_implementation();
    INFO("implementation: " << impl);
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        CHECK(impl == "avx512");
    else if (__builtin_cpu_supports("avx2"))
        CHECK(impl == "avx2");
    else
        CHECK(impl == "scalar");
    REQUIRE(same_fill_implementation() == impl); // chosen once
}

TEST_CASE("filled pages are detected with their word", "[same_fill]") {
    for (std::uint64_t value : {0ull, ~0ull, 0x0101010101010101ull, 0x0123456789abcdefull,
                                0x8000000000000000ull, 1ull}) {
        INFO(std::hex << value);
        require_agree(filled(value), value);
    }
}

TEST_CASE("a difference at any byte position is found", "[same_fill]") {
    for (std::uint64_t value : {0ull, 0xdeadbeefcafef00dull}) {
        Page page = filled(value);
        for (std::size_t at = 0; at < kPageSize; ++at) {
            INFO("byte " << at);
            const std::byte saved = page[at];
            page[at] ^= std::byte{0x10};
            require_agree(page, std::nullopt);
            page[at] = saved;
        }
        require_agree(page, value);
    }
}

TEST_CASE("a mismatch only in the last word is found", "[same_fill]") {
    Page page = filled(0x1111111111111111ull);
    const std::uint64_t last = 0x1111111111111112ull;
    std::memcpy(page.data() + kPageSize - 8, &last, 8);
    require_agree(page, std::nullopt);
    Page top_bit = filled(0);
    top_bit[kPageSize - 1] = std::byte{0x80};
    require_agree(top_bit, std::nullopt);
}

TEST_CASE("period-8 patterns are same-filled, other periods are not", "[same_fill]") {
    Page p4, p16;
    for (std::size_t i = 0; i < kPageSize; ++i) {
        p4[i] = static_cast<std::byte>(i % 4);
        p16[i] = static_cast<std::byte>(i % 16);
    }
    std::uint64_t word;
    std::memcpy(&word, p4.data(), 8);
    require_agree(p4, word);
    require_agree(p16, std::nullopt);
}

TEST_CASE("unaligned pages work", "[same_fill]") {
    std::vector<std::byte> buffer(kPageSize + 64);
    for (std::size_t offset = 1; offset < 64; offset += 7) {
        std::memset(buffer.data(), 0, buffer.size());
        PageView view(buffer.data() + offset, kPageSize);
        require_agree(view, 0ull);
        buffer[offset + kPageSize - 1] = std::byte{1};
        require_agree(view, std::nullopt);
        MutablePageView out(buffer.data() + offset, kPageSize);
        fill_page(out, 0x0102030405060708ull);
        require_agree(view, 0x0102030405060708ull);
        REQUIRE(buffer[offset - 1] == std::byte{0}); // nothing written outside the page
        REQUIRE(buffer[offset + kPageSize] == std::byte{0});
    }
}

TEST_CASE("fill_page writes the word over the whole page", "[same_fill]") {
    for (std::uint64_t value : {0ull, 0xffull, 0x0123456789abcdefull, ~0ull}) {
        Page page = random_page(static_cast<unsigned>(value));
        fill_page(page, value);
        REQUIRE(page == filled(value));
        require_agree(page, value);
    }
}

TEST_CASE("dispatched agrees with scalar on random pages", "[same_fill]") {
    for (unsigned seed = 0; seed < 200; ++seed) require_agree(random_page(seed), std::nullopt);
}

TEST_CASE("dispatched agrees with scalar on corpus pages", "[same_fill][corpus]") {
    const Corpus& corpus = test_corpus();
    require_pages(corpus);
    std::size_t same = 0;
    for (const Page& page : corpus.pages) {
        const auto expected = same_fill_value_scalar(page);
        REQUIRE(same_fill_value(page) == expected);
        if (expected) ++same;
    }
    INFO(same << " of " << corpus.pages.size() << " corpus pages are same-filled");
    CHECK(same < corpus.pages.size());
}

TEST_CASE("each implementation this CPU can run agrees with scalar", "[same_fill]") {
    using namespace trueno::same_fill_detail;
    struct Impl {
        const char* name;
        bool runs;
        std::optional<std::uint64_t> (*detect)(PageView);
        void (*fill)(MutablePageView, std::uint64_t);
    };
    __builtin_cpu_init();
    const Impl impls[] = {
        {"avx2", __builtin_cpu_supports("avx2") != 0, detect_avx2, fill_avx2},
        {"avx512", __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"),
         detect_avx512, fill_avx512},
    };
    for (const Impl& impl : impls) {
        if (!impl.runs) {
            WARN("SKIP " << impl.name << ": this CPU does not support it");
            continue;
        }
        INFO(impl.name);
        Page page = filled(0x0123456789abcdefull);
        REQUIRE(impl.detect(page) == 0x0123456789abcdefull);
        for (std::size_t at = 0; at < kPageSize; at += 3) {
            const std::byte saved = page[at];
            page[at] ^= std::byte{1};
            REQUIRE(impl.detect(page) == std::nullopt);
            page[at] = saved;
        }
        Page out = random_page(5);
        impl.fill(out, 0xfeedfacecafebeefull);
        REQUIRE(out == filled(0xfeedfacecafebeefull));
        for (unsigned seed = 0; seed < 50; ++seed) {
            const Page r = random_page(seed);
            REQUIRE(impl.detect(r) == same_fill_value_scalar(r));
        }
    }
}
