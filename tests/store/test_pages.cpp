#include "test_pages.hpp"

#include <cstring>
#include <random>

namespace trueno::test {

Page same_filled_page(std::uint64_t word) {
    Page page;
    for (std::size_t i = 0; i < kPageSize; i += 8) std::memcpy(page.data() + i, &word, 8);
    return page;
}

Page compressible_page(std::uint64_t seed) {
    static constexpr const char* kWords[] = {"swap ", "page ", "zram ", "memory ", "kernel ",
                                             "compress ", "slot ", "trueno ", "0x7f3a ", "\n"};
    std::mt19937_64 rng(seed);
    Page page;
    std::size_t at = 0;
    while (at < kPageSize) {
        const char* word = kWords[rng() % 10];
        for (const char* c = word; *c != '\0' && at < kPageSize; ++c) page[at++] = std::byte(*c);
        if (rng() % 4 == 0 && at < kPageSize) page[at++] = std::byte(rng() & 0xff); // entropy
    }
    return page;
}

Page incompressible_page(std::uint64_t seed) {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    Page page;
    for (std::size_t i = 0; i < kPageSize; i += 8) {
        const std::uint64_t word = rng();
        std::memcpy(page.data() + i, &word, 8);
    }
    return page;
}

Page versioned_page(std::uint64_t index, std::uint64_t version) {
    Page page;
    const std::uint64_t seed = index * 1000003 + version;
    switch (version % 5) {
    case 0: // same-filled: the word itself carries index and version
        return same_filled_page((index << 40) | (version & ((std::uint64_t{1} << 40) - 1)));
    case 1: page = incompressible_page(seed); break;
    default: page = compressible_page(seed); break;
    }
    // The version is stored inverted so the two words can never be equal (that means same).
    const std::uint64_t inverted = ~version;
    std::memcpy(page.data(), &index, 8);
    std::memcpy(page.data() + 8, &inverted, 8);
    return page;
}

PageIdentity identify(const Page& page) {
    std::uint64_t first = 0;
    std::uint64_t second = 0;
    std::memcpy(&first, page.data(), 8);
    std::memcpy(&second, page.data() + 8, 8);
    if (first == second) return {first >> 40, first & ((std::uint64_t{1} << 40) - 1)};
    return {first, ~second};
}

} // namespace trueno::test
