// Page contents for store tests: same-filled, compressible and incompressible pages that are
// fully determined by a seed, so a reader can rebuild what a writer wrote.
#pragma once

#include <array>
#include <cstdint>

#include "trueno/page.hpp"

namespace trueno::test {

using Page = std::array<std::byte, kPageSize>;

Page same_filled_page(std::uint64_t word);
Page compressible_page(std::uint64_t seed);   // text-like, compresses a few times
Page incompressible_page(std::uint64_t seed); // random bytes: stored huge

// A page that names its owner and version in its first 16 bytes and whose remaining bytes
// follow from them; its kind (same/compressible/incompressible) varies with the version.
Page versioned_page(std::uint64_t index, std::uint64_t version);
// The index and version read back from a page made by versioned_page (same-filled ones too).
struct PageIdentity {
    std::uint64_t index;
    std::uint64_t version;
};
PageIdentity identify(const Page& page);

} // namespace trueno::test
