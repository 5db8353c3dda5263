// Compaction runs under a class lock that I/O threads take too, so it must neither fault nor
// allocate there: it moves objects only into memory that is already populated (populating the
// holes it means to fill beforehand, without the lock), and still ends dense.
#include <sys/mman.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "size_class_allocator.hpp"
#include "test_allocator.hpp"

using trueno::kPageSize;
using trueno::store::Handle;
using trueno::store::ObjectOwners;
using trueno::store::SizeClassAllocator;
using trueno::store::testing::TestAllocator;

namespace {

// Whether every page of [at, at + bytes) is in memory: an access there does not fault.
bool resident(const std::byte* at, std::size_t bytes) {
    const auto first = reinterpret_cast<std::uintptr_t>(at) / kPageSize * kPageSize;
    const auto end = (reinterpret_cast<std::uintptr_t>(at) + bytes + kPageSize - 1) / kPageSize *
                     kPageSize;
    unsigned char pages[2] = {}; // an object spans at most two pages
    if (::mincore(reinterpret_cast<void*>(first), end - first, pages) != 0) return false;
    for (std::size_t i = 0; i < (end - first) / kPageSize; ++i)
        if ((pages[i] & 1) == 0) return false;
    return true;
}

std::byte pattern(std::uint64_t owner, std::size_t i) {
    return static_cast<std::byte>((owner * 131 + i * 7 + (i >> 8)) & 0xff);
}

// The store's role: owner -> handle. try_move runs under the class lock, so that is where a
// target on a page given back would fault: it must find the target resident.
struct CheckedOwners final : ObjectOwners {
    std::vector<Handle> handles; // by owner
    std::vector<std::size_t> sizes;
    std::vector<bool> live;
    std::size_t moves = 0;
    std::size_t targets_not_resident = 0;

    bool try_move(std::uint64_t owner, Handle from, Handle to, std::span<const std::byte> source,
                  std::span<std::byte> target) override {
        if (owner >= handles.size() || !live[owner] || handles[owner] != from) return false;
        if (!resident(target.data(), target.size())) ++targets_not_resident;
        std::memcpy(target.data(), source.data(), source.size());
        handles[owner] = to;
        ++moves;
        return true;
    }
};

// Objects of three classes, each written with its own pattern; in never-fault mode refilled
// by hand whenever the reserve runs dry.
void write_objects(SizeClassAllocator& allocator, CheckedOwners& owners, bool never_fault) {
    constexpr std::size_t kSizes[] = {3000, 700, 100};
    constexpr std::size_t kPerSize = 3000;
    for (std::size_t size : kSizes) {
        for (std::size_t k = 0; k < kPerSize; ++k) {
            const std::uint64_t owner = owners.handles.size();
            auto handle = allocator.allocate(size, owner);
            if (!handle && never_fault) {
                allocator.refill_now();
                handle = allocator.allocate(size, owner);
            }
            REQUIRE(handle);
            std::byte* at = allocator.address(*handle);
            for (std::size_t i = 0; i < size; ++i) at[i] = pattern(owner, i);
            owners.handles.push_back(*handle);
            owners.sizes.push_back(size);
            owners.live.push_back(true);
        }
    }
}

} // namespace

TEST_CASE("compaction moves objects only into populated memory and still ends dense",
          "[store][compact]") {
    const bool never_fault = GENERATE(false, true);
    INFO((never_fault ? "never-fault mode" : "plain mode"));
    TestAllocator allocator(20000);
    if (never_fault) allocator.enable_reserve(1, /*background=*/false);
    CheckedOwners owners;
    write_objects(allocator, owners, never_fault);

    // Runs of 48 freed objects between runs of 16 kept: whole pages empty out and go back to
    // the OS (plain mode: free() gives them back; never-fault mode: trim_empty_pages()), so
    // the lowest holes of every class lie on pages that are no longer populated.
    for (std::uint64_t owner = 0; owner < owners.handles.size(); ++owner) {
        if ((owner / 16) % 4 == 3) continue;
        allocator.free(owners.handles[owner]);
        owners.live[owner] = false;
    }
    if (never_fault) allocator.trim_empty_pages();
    const std::uint64_t before = allocator.used_pages();

    allocator.compact(owners);

    INFO("moves " << owners.moves << ", pages used " << before << " -> "
                  << allocator.used_pages());
    CHECK(owners.targets_not_resident == 0);
    CHECK(owners.moves > 0);
    // The holes on pages given back were populated for the moves (outside the lock): each class
    // ends dense, at most a page or two beyond what its objects need (never-fault mode: objects
    // that found their class dry borrowed a larger one, so more than three classes hold some).
    std::map<std::size_t, std::uint64_t> class_bytes;
    for (std::uint64_t owner = 0; owner < owners.handles.size(); ++owner)
        if (owners.live[owner])
            class_bytes[allocator.class_size(owners.handles[owner])] +=
                allocator.class_size(owners.handles[owner]);
    std::uint64_t bound = 0;
    for (const auto& [size, bytes] : class_bytes) bound += (bytes + kPageSize - 1) / kPageSize + 2;
    CHECK(allocator.used_pages() <= bound);
    // Every object kept its bytes and sits on resident memory.
    for (std::uint64_t owner = 0; owner < owners.handles.size(); ++owner) {
        if (!owners.live[owner]) continue;
        const std::byte* at = allocator.address(owners.handles[owner]);
        INFO("owner " << owner);
        REQUIRE(resident(at, owners.sizes[owner]));
        bool same = true;
        for (std::size_t i = 0; i < owners.sizes[owner]; ++i)
            same = same && at[i] == pattern(owner, i);
        REQUIRE(same);
    }
    // Nothing populated for the moves is left behind uncounted in plain mode.
    if (!never_fault) CHECK(allocator.reserve_pages() == 0);

    for (std::uint64_t owner = 0; owner < owners.handles.size(); ++owner)
        if (owners.live[owner]) allocator.free(owners.handles[owner]);
    allocator.compact(owners);
    CHECK(allocator.used_pages() == 0);
}
