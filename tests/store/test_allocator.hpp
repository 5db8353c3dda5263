// A size-class allocator over a private arena of its own, for tests that use the allocator
// without a store: `TestAllocator allocator(max_objects)` is a SizeClassAllocator.
#pragma once

#include "arena.hpp"
#include "size_class_allocator.hpp"
#include "store_layout.hpp"

#include <cstdint>

namespace trueno::store::testing {

struct AllocatorArena {
    explicit AllocatorArena(std::uint64_t max_objects)
        : geometry(plan_arena(1, max_objects, std::uint64_t{1} << 30)),
          arena(std::move(Arena::create_private(geometry.arena_bytes).value())) {}
    ArenaGeometry geometry;
    Arena arena;
    PersistentCounter limit_counter{0};
    PersistentCounter max_used_counter{0};
    PersistentCounter compacted_counter{0};
};

class TestAllocator : private AllocatorArena, public SizeClassAllocator {
public:
    explicit TestAllocator(std::uint64_t max_objects)
        : AllocatorArena(max_objects),
          SizeClassAllocator(arena, geometry,
                             Counters{limit_counter, max_used_counter, compacted_counter}) {}
};

} // namespace trueno::store::testing
