// The allocator's own memory (heap, outside the arena): page maps made in chunks as pages come
// into use, slot vectors grown by an eighth, and what bookkeeping() reports of them. A daemon
// that takes a store over allocates all of it at once, from the memory its standby keeps.
#include "page_map.hpp"
#include "size_class_allocator.hpp"
#include "test_allocator.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using trueno::kPageSize;
using trueno::store::Handle;
using trueno::store::PageMap;
using trueno::store::SizeClassAllocator;
using trueno::store::testing::TestAllocator;

TEST_CASE("page map: pages without a chunk read as absent and empty; chunks are made on demand",
          "[store][bookkeeping]") {
    PageMap map;
    CHECK(map.bytes() == 0);
    for (std::size_t page : {std::size_t{0}, PageMap::kChunkPages, PageMap::kPages - 1}) {
        CHECK_FALSE(map.has_chunk(page));
        CHECK(map.live(page) == 0);
        CHECK(map.state(page) == trueno::store::kPageAbsent);
    }
    map.make_chunk(PageMap::kChunkPages + 3);
    CHECK(map.has_chunk(PageMap::kChunkPages)); // the whole chunk
    CHECK_FALSE(map.has_chunk(0));
    CHECK(map.bytes() == sizeof(PageMap::Chunk));
    map.live_at(PageMap::kChunkPages + 3) = 257; // the most objects a page can have
    map.state_at(PageMap::kChunkPages + 3) = trueno::store::kPageResident;
    map.state_at(PageMap::kChunkPages + 4) = trueno::store::kPageReserved;
    CHECK(map.live(PageMap::kChunkPages + 3) == 257);
    CHECK(map.count(trueno::store::kPageResident) == 1);
    CHECK(map.count(trueno::store::kPageReserved) == 1);

    // A chunk made elsewhere is installed only where none is: the page's data is never lost.
    auto fresh = std::make_unique<PageMap::Chunk>();
    map.adopt_chunk(PageMap::kChunkPages, fresh);
    CHECK(fresh != nullptr); // kept by the caller
    CHECK(map.live(PageMap::kChunkPages + 3) == 257);
    map.adopt_chunk(0, fresh);
    CHECK(fresh == nullptr);
    CHECK(map.has_chunk(0));
    map.make_chunk(0); // already there: nothing changes
    CHECK(map.bytes() == 2 * sizeof(PageMap::Chunk));
}

namespace {

// One object in every size class, and many in one: what a store of real pages looks like to
// the allocator (every class used, most of them little).
std::vector<Handle> fill_every_class(SizeClassAllocator& allocator, std::size_t many_of_one) {
    std::vector<Handle> handles;
    std::uint64_t owner = 0;
    for (std::size_t c = 0; c < SizeClassAllocator::class_count(); ++c) {
        auto handle = allocator.allocate(SizeClassAllocator::size_of_class(c), owner++);
        REQUIRE(handle.ok());
        handles.push_back(*handle);
    }
    for (std::size_t i = 0; i < many_of_one; ++i) {
        auto handle = allocator.allocate(1000, owner++);
        REQUIRE(handle.ok());
        std::memset(allocator.address(*handle), 0x5a, 1000);
        handles.push_back(*handle);
    }
    return handles;
}

} // namespace

TEST_CASE("bookkeeping: the page maps of classes barely used cost a chunk, not a segment's map",
          "[store][bookkeeping]") {
    TestAllocator allocator(200000);
    const auto handles = fill_every_class(allocator, 20000);
    const auto report = allocator.bookkeeping();
    CHECK(report.segments >= SizeClassAllocator::class_count());
    // A whole map is 12 KiB a segment (3 bytes a page); one chunk is 768 bytes. The 1000-byte
    // class holds 20000 objects on about 4900 pages: a segment and a bit, 21 chunks.
    INFO("page maps " << report.page_map_bytes << " bytes for " << report.segments << " segments");
    CHECK(report.page_map_bytes < report.segments * 1024 + 32 * sizeof(PageMap::Chunk));
    CHECK(report.total() == report.page_map_bytes + report.owner_bytes + report.free_list_bytes +
                                report.directory_bytes);
}

TEST_CASE("bookkeeping: slot vectors grow by an eighth, not by doubling", "[store][bookkeeping]") {
    TestAllocator allocator(200000);
    std::vector<Handle> handles;
    for (std::uint64_t owner = 0; owner < 20000; ++owner) {
        auto handle = allocator.allocate(1000, owner);
        REQUIRE(handle.ok());
        handles.push_back(*handle);
    }
    for (Handle handle : handles) allocator.free(handle);
    // 8 bytes a slot each for the owners and the free list; doubling would leave 32768 slots.
    const auto report = allocator.bookkeeping();
    CHECK(report.owner_bytes >= 20000 * 8);
    CHECK(report.owner_bytes <= (20000 + 20000 / 8 + 64) * 8);
    CHECK(report.free_list_bytes >= 20000 * 8);
    CHECK(report.free_list_bytes <= (20000 + 20000 / 8 + 64) * 8 + 4096 * 8); // + emptied pages
}

TEST_CASE(
    "bookkeeping: in never-fault mode the refiller makes the chunks of the pages it populates",
    "[store][bookkeeping][never-fault]") {
    TestAllocator allocator(200000);
    allocator.enable_reserve(8, /*background=*/false);
    // The reserve beyond every class's top is populated and marked, so allocations find it.
    const auto handles = [&] {
        std::vector<Handle> made;
        std::uint64_t owner = 0;
        for (int round = 0; round < 40; ++round) {
            for (std::size_t c = 0; c < SizeClassAllocator::class_count(); c += 5) {
                auto handle = allocator.allocate(SizeClassAllocator::size_of_class(c), owner++);
                if (!handle) {
                    allocator.refill_now();
                    handle = allocator.allocate(SizeClassAllocator::size_of_class(c), owner++);
                }
                REQUIRE(handle.ok());
                std::memset(allocator.address(*handle), 0x33, SizeClassAllocator::size_of_class(c));
                made.push_back(*handle);
            }
            allocator.refill_now();
        }
        return made;
    }();
    CHECK(allocator.reserve_pages() > 0);
    const auto report = allocator.bookkeeping();
    INFO("page maps " << report.page_map_bytes << " bytes for " << report.segments << " segments");
    CHECK(report.page_map_bytes < report.segments * 4 * sizeof(PageMap::Chunk));
    for (Handle handle : handles)
        allocator.free(handle);
    CHECK(allocator.used_pages() > 0); // never-fault mode keeps emptied pages until trimmed
    allocator.trim_empty_pages();
    CHECK(allocator.used_pages() == 0);
}
