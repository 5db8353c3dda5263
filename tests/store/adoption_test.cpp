// Taking a store over (a daemon restarted after its predecessor died): the new allocator keeps
// the pages objects are on, and, for a store that will serve swap, the empty pages it finds
// still resident, as its reserve. A daemon restarted under memory pressure must not give that
// memory back only to ask for it again at once. A plain store keeps nothing else.
#include <sys/mman.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <map>
#include <set>
#include <vector>

#include "size_class_allocator.hpp"
#include "test_allocator.hpp"

using trueno::kPageSize;
using trueno::store::Handle;
using trueno::store::SizeClassAllocator;
using trueno::store::testing::AllocatorArena;

namespace {

// Pages of the arena that are in memory.
std::uint64_t resident_pages(const trueno::store::Arena& arena) {
    std::vector<unsigned char> in_core((arena.size() + kPageSize - 1) / kPageSize);
    REQUIRE(::mincore(arena.data(), arena.size(), in_core.data()) == 0);
    std::uint64_t n = 0;
    for (unsigned char c : in_core) n += c & 1;
    return n;
}

// The arena pages the objects lie on (an object may straddle two).
std::set<std::uint64_t> object_pages(const SizeClassAllocator& allocator, const trueno::store::Arena& arena,
                                     const std::map<std::uint64_t, Handle>& objects) {
    std::set<std::uint64_t> pages;
    for (const auto& [owner, handle] : objects) {
        const auto first = static_cast<std::uint64_t>(allocator.address(handle) - arena.data());
        const auto last = first + allocator.class_size(handle) - 1;
        for (std::uint64_t p = first / kPageSize; p <= last / kPageSize; ++p) pages.insert(p);
    }
    return pages;
}

struct DeadStore {
    std::map<std::uint64_t, Handle> objects; // owner -> handle, what the slot table would say
    std::uint64_t reserve_pages = 0;         // the dead allocator's populated reserve
};

// A never-fault allocator (as a swap store's) writes objects of many sizes, frees a third of
// them (their emptied pages stay populated), and "dies": its bookkeeping goes, the arena stays.
DeadStore run_and_die(AllocatorArena& shared) {
    DeadStore dead;
    SizeClassAllocator first(shared.arena, shared.geometry,
                             {shared.limit_counter, shared.max_used_counter, shared.compacted_counter});
    first.enable_reserve(8, /*background=*/false);
    for (std::uint64_t owner = 0; owner < 6000; ++owner) {
        const std::size_t size = 64 + (owner * 997) % 3900;
        auto handle = first.allocate(size, owner);
        if (!handle) {
            first.refill_now(); // what the refill thread does between writes
            handle = first.allocate(size, owner);
        }
        REQUIRE(handle.ok());
        std::memset(first.address(*handle), static_cast<int>(owner & 0xff), size);
        dead.objects.emplace(owner, *handle);
    }
    for (std::uint64_t owner = 0; owner < 6000; owner += 3) {
        first.free(dead.objects.at(owner));
        dead.objects.erase(owner);
    }
    dead.reserve_pages = first.reserve_pages();
    REQUIRE(dead.reserve_pages > 0);
    return dead;
}

} // namespace

TEST_CASE("a store taken over for swap keeps the empty pages it finds resident as its reserve",
          "[allocator][adoption]") {
    AllocatorArena shared(20000);
    const DeadStore dead = run_and_die(shared);
    const std::uint64_t resident_at_death = resident_pages(shared.arena);

    SizeClassAllocator next(shared.arena, shared.geometry,
                            {shared.limit_counter, shared.max_used_counter, shared.compacted_counter});
    for (const auto& [owner, handle] : dead.objects) REQUIRE(next.adopt(handle, owner).ok());
    const auto pages = object_pages(next, shared.arena, dead.objects);
    SECTION("for swap: nothing resident is given back; what holds no object is reserve") {
        next.finish_adoption(/*keep_populated=*/true);
        CHECK(resident_pages(shared.arena) == resident_at_death);
        CHECK(next.used_pages() == pages.size());
        // Every resident page is either used or reserve: the emptied pages and the dead
        // allocator's own reserve are all there.
        CHECK(next.used_pages() + next.reserve_pages() == resident_at_death);
        CHECK(next.reserve_pages() >= dead.reserve_pages);

        // The reserve is usable at once and without faults; what exceeds the windows goes back
        // when the allocator trims.
        next.enable_reserve(8, /*background=*/false);
        const std::uint64_t before_trim = next.reserve_pages();
        for (std::uint64_t owner = 100000; owner < 100200; ++owner) {
            auto handle = next.allocate(200 + owner % 1000, owner);
            REQUIRE(handle.ok());
        }
        next.trim_empty_pages();
        CHECK(next.reserve_pages() < before_trim);
        CHECK(next.reserve_pages() <= next.reserve_target_pages() + 2 * SizeClassAllocator::class_count());
    }
    SECTION("plain: only the pages objects are on stay") {
        next.finish_adoption(/*keep_populated=*/false);
        CHECK(next.used_pages() == pages.size());
        CHECK(next.reserve_pages() == 0);
        CHECK(resident_pages(shared.arena) == pages.size());
    }
    // Either way every object is intact.
    for (const auto& [owner, handle] : dead.objects) {
        const std::byte* at = next.address(handle);
        CHECK(at[0] == static_cast<std::byte>(owner & 0xff));
    }
}

TEST_CASE("a store taken over serves from the reserve it adopted; its first fill is the refill thread's",
          "[allocator][adoption]") {
    // At a take-over under memory pressure, a first fill made before serving waited 269 s for
    // 1080 kB (the kill-loop VM at 256 MB) while 14 MB of adopted reserve sat ready.
    AllocatorArena shared(20000);
    const DeadStore dead = run_and_die(shared);
    SizeClassAllocator next(shared.arena, shared.geometry,
                            {shared.limit_counter, shared.max_used_counter, shared.compacted_counter});
    for (const auto& [owner, handle] : dead.objects) REQUIRE(next.adopt(handle, owner).ok());
    next.finish_adoption(/*keep_populated=*/true);
    const std::uint64_t resident_before = resident_pages(shared.arena);

    std::promise<void> open;
    std::shared_future<void> gate = open.get_future().share();
    next.enable_reserve(8, /*background=*/true, [gate] { gate.wait(); }, 0, /*first_fill_on_thread=*/true);
    // Returned with nothing populated: the refill thread waits at the gate.
    CHECK(next.refilled_pages() == 0);
    CHECK(next.refill_runs() == 0);
    CHECK(resident_pages(shared.arena) == resident_before);
    // Writes are served meanwhile, from the adopted reserve alone.
    for (std::uint64_t owner = 100000; owner < 100050; ++owner) {
        auto handle = next.allocate(200 + (owner * 37) % 1000, owner);
        REQUIRE(handle.ok());
    }
    CHECK(resident_pages(shared.arena) == resident_before);

    open.set_value(); // the refill thread's first pass runs without being asked
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (next.refill_runs() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(next.refill_runs() >= 1);
}
