// The allocator against a simple model: a long random run of allocations, frees and
// compactions; every live object must keep its bytes and its owner's handle must follow it.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "size_class_allocator.hpp"
#include "test_allocator.hpp"

using trueno::kPageSize;
using trueno::store::Handle;
using trueno::store::ObjectOwners;
using trueno::store::SizeClassAllocator;
using trueno::store::testing::TestAllocator;

namespace {

// The model: owner -> (handle, size, fill seed). try_move plays the store's role.
struct ModelOwners final : ObjectOwners {
    struct Object {
        Handle handle;
        std::size_t size;
        std::uint64_t seed;
    };
    std::map<std::uint64_t, Object> objects;
    std::size_t busy_every = 0; // refuse every n-th move, as a locked page would
    std::size_t calls = 0;
    std::size_t moves = 0;

    bool try_move(std::uint64_t owner, Handle from, Handle to, std::span<const std::byte> source,
                  std::span<std::byte> target) override {
        ++calls;
        auto it = objects.find(owner);
        REQUIRE(it != objects.end());
        REQUIRE(it->second.handle == from);
        REQUIRE(source.size() == target.size());
        REQUIRE(source.size() >= it->second.size);
        if (busy_every != 0 && calls % busy_every == 0) return false;
        std::memcpy(target.data(), source.data(), source.size());
        it->second.handle = to;
        ++moves;
        return true;
    }
};

// Cheap per-object byte pattern: differs between objects and along each object.
std::byte pattern(std::uint64_t seed, std::size_t i) {
    return std::byte(((seed * 0x9e3779b97f4a7c15ull) ^ (i * 0xff51afd7ed558ccdull)) >> 56);
}

void fill(std::byte* at, std::size_t size, std::uint64_t seed) {
    for (std::size_t i = 0; i < size; ++i) at[i] = pattern(seed, i);
}

bool matches(const std::byte* at, std::size_t size, std::uint64_t seed) {
    for (std::size_t i = 0; i < size; ++i)
        if (at[i] != pattern(seed, i)) return false;
    return true;
}

void check_all(SizeClassAllocator& allocator, const ModelOwners& model) {
    std::uint64_t class_bytes = 0;
    for (const auto& [owner, object] : model.objects) {
        INFO("owner " << owner << " size " << object.size);
        REQUIRE(matches(allocator.address(object.handle), object.size, object.seed));
        class_bytes += allocator.class_size(object.handle);
    }
    // Every live byte is in a page that is counted.
    REQUIRE(allocator.used_pages() * kPageSize >= class_bytes);
}

std::size_t random_size(std::mt19937_64& rng) {
    switch (rng() % 4) {
    case 0: return 1 + rng() % 64;          // tiny
    case 1: return 1 + rng() % kPageSize;   // anything
    case 2: return 3000 + rng() % 1097;     // large, straddling
    default: return 600 + rng() % 1400;     // typical compressed pages
    }
}

} // namespace

TEST_CASE("size classes cover 1..4096 bytes in 16-byte steps", "[allocator]") {
    REQUIRE(SizeClassAllocator::class_for_size(1) == 0);
    REQUIRE(SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(16)) == 16);
    REQUIRE(SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(17)) == 32);
    REQUIRE(SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(3631)) == 3632);
    REQUIRE(SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(4096)) == 4096);
    TestAllocator allocator(16);
    REQUIRE(allocator.allocate(0, 0).error().code == EINVAL);
    REQUIRE(allocator.allocate(4097, 0).error().code == EINVAL);
}

TEST_CASE("objects of one class are packed back to back across page boundaries", "[allocator]") {
    TestAllocator allocator(1000);
    // 100 objects of 1000 bytes in the 1008-byte class: 100800 bytes, 25 pages (whole objects
    // per page would take 34).
    std::vector<Handle> handles;
    for (std::uint64_t i = 0; i < 100; ++i) {
        auto h = allocator.allocate(1000, i);
        REQUIRE(h.ok());
        fill(allocator.address(*h), 1000, i);
        handles.push_back(*h);
    }
    REQUIRE(allocator.used_pages() == (100 * 1008 + kPageSize - 1) / kPageSize);
    for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(matches(allocator.address(handles[i]), 1000, i));
    for (auto h : handles) allocator.free(h);
    ModelOwners none;
    allocator.compact(none);
    REQUIRE(allocator.used_pages() == 0);
    REQUIRE(allocator.max_used_pages() == 25);
}

TEST_CASE("allocator matches a model under random allocation, free and compaction",
          "[allocator]") {
    TestAllocator allocator(20000);
    ModelOwners model;
    model.busy_every = 7;
    std::mt19937_64 rng(12345);
    std::uint64_t next_owner = 0;
    std::uint64_t total_compacted = 0;
    for (int step = 0; step < 60000; ++step) {
        const auto action = rng() % 100;
        if (action < 55 || model.objects.size() < 10) {
            const std::size_t size = random_size(rng);
            const std::uint64_t owner = next_owner++;
            auto h = allocator.allocate(size, owner);
            REQUIRE(h.ok());
            fill(allocator.address(*h), size, owner * 31 + size);
            model.objects[owner] = {*h, size, owner * 31 + size};
        } else if (action < 99 || rng() % 4 != 0) {
            auto it = model.objects.lower_bound(rng() % next_owner);
            if (it == model.objects.end()) it = model.objects.begin();
            REQUIRE(matches(allocator.address(it->second.handle), it->second.size, it->second.seed));
            allocator.free(it->second.handle);
            model.objects.erase(it);
        } else {
            total_compacted += allocator.compact(model);
            check_all(allocator, model);
        }
        // Swings: sometimes free most objects, to leave sparse classes behind.
        if (step % 20000 == 19999) {
            for (auto it = model.objects.begin(); it != model.objects.end();) {
                if (rng() % 10 < 8) {
                    allocator.free(it->second.handle);
                    it = model.objects.erase(it);
                } else {
                    ++it;
                }
            }
            const auto before = allocator.used_pages();
            const auto moves_before = model.moves;
            total_compacted += allocator.compact(model);
            check_all(allocator, model);
            REQUIRE(model.moves > moves_before);
            REQUIRE(allocator.used_pages() < before);
        }
    }
    check_all(allocator, model);
    REQUIRE(allocator.pages_compacted() == total_compacted);

    // A full compaction with nobody busy leaves each class dense: at most one page per class
    // (plus a straddled one) beyond what its objects need.
    model.busy_every = 0;
    allocator.compact(model);
    check_all(allocator, model);
    std::map<std::size_t, std::uint64_t> class_bytes;
    for (const auto& [owner, object] : model.objects)
        class_bytes[allocator.class_size(object.handle)] += allocator.class_size(object.handle);
    std::uint64_t bound = 0;
    for (const auto& [size, bytes] : class_bytes) bound += (bytes + kPageSize - 1) / kPageSize + 1;
    REQUIRE(allocator.used_pages() <= bound);

    for (auto& [owner, object] : model.objects) allocator.free(object.handle);
    model.objects.clear();
    allocator.compact(model);
    REQUIRE(allocator.used_pages() == 0);
}

TEST_CASE("allocator refuses to pass its page limit and counts the peak", "[allocator]") {
    TestAllocator allocator(100);
    allocator.set_limit_pages(3);
    std::vector<Handle> handles;
    for (int i = 0; i < 3; ++i) {
        auto h = allocator.allocate(4096, i);
        REQUIRE(h.ok());
        handles.push_back(*h);
    }
    auto refused = allocator.allocate(4096, 3);
    REQUIRE_FALSE(refused.ok());
    REQUIRE(refused.error().code == ENOMEM);
    REQUIRE(allocator.used_pages() == 3);
    // Small objects still fit in a page already counted? No page is partly free here, so the
    // 16-byte class needs a new page too.
    REQUIRE(allocator.allocate(16, 4).error().code == ENOMEM);
    allocator.free(handles.back());
    handles.pop_back();
    REQUIRE(allocator.allocate(4096, 5).ok()); // reuses the freed, still counted page
    REQUIRE(allocator.used_pages() == 3);
    REQUIRE(allocator.max_used_pages() == 3);
    allocator.set_limit_pages(0);
    REQUIRE(allocator.allocate(16, 6).ok());
    REQUIRE(allocator.used_pages() == 4);
    REQUIRE(allocator.max_used_pages() == 4);
}
