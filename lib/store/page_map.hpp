// Per-page bookkeeping of one allocator segment (4096 pages): how many objects touch each page
// and whether it is absent, resident or reserved.
//
// Kept in chunks of kChunkPages pages, made as pages come into use: a size class uses only the
// first pages of most of its segments, and a whole map (3 bytes a page, 12 KiB a segment) for
// each of 256 classes was most of what a daemon taking a store over allocated. A page without
// a chunk reads as absent with no object. Only writers need the chunk: whoever turns a page
// from absent (or from no object) into anything else makes it first, or installs one made
// outside a lock (see SizeClassAllocator::refill_class), since making one allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace trueno::store {

// Page states.
inline constexpr std::uint8_t kPageAbsent = 0;   // never touched or given back
inline constexpr std::uint8_t kPageResident = 1; // touched by an object; counted in used_pages
inline constexpr std::uint8_t kPageReserved = 2; // populated ahead by the refiller; not counted

class PageMap {
public:
    static constexpr std::size_t kPages = 4096;
    static constexpr std::size_t kChunkPages = 256;
    static constexpr std::size_t kChunks = kPages / kChunkPages;

    struct Chunk {
        std::array<std::uint16_t, kChunkPages> live{}; // up to 257 objects touch a page
        std::array<std::uint8_t, kChunkPages> state{}; // kPageAbsent is 0
    };

    std::uint16_t live(std::size_t page) const {
        const Chunk* chunk = chunks_[page / kChunkPages].get();
        return chunk == nullptr ? 0 : chunk->live[page % kChunkPages];
    }
    std::uint8_t state(std::size_t page) const {
        const Chunk* chunk = chunks_[page / kChunkPages].get();
        return chunk == nullptr ? kPageAbsent : chunk->state[page % kChunkPages];
    }
    bool has_chunk(std::size_t page) const { return chunks_[page / kChunkPages] != nullptr; }

    // Writers: the page's chunk must exist.
    std::uint16_t& live_at(std::size_t page) {
        return chunks_[page / kChunkPages]->live[page % kChunkPages];
    }
    std::uint8_t& state_at(std::size_t page) {
        return chunks_[page / kChunkPages]->state[page % kChunkPages];
    }

    // Makes the page's chunk if it has none (allocates: not where allocating is forbidden).
    void make_chunk(std::size_t page) {
        if (!has_chunk(page))
            chunks_[page / kChunkPages] = std::make_unique<Chunk>();
    }
    // Installs a chunk made elsewhere if the page has none; otherwise `fresh` stays with the
    // caller (to be freed where freeing is allowed).
    void adopt_chunk(std::size_t page, std::unique_ptr<Chunk>& fresh) {
        if (!has_chunk(page))
            chunks_[page / kChunkPages] = std::move(fresh);
    }

    // Pages in a state other than absent, over the whole segment.
    std::size_t count(std::uint8_t state_wanted) const {
        std::size_t n = 0;
        for (const auto& chunk : chunks_)
            if (chunk)
                for (std::uint8_t s : chunk->state)
                    n += s == state_wanted ? 1 : 0;
        return n;
    }
    // Heap held by the chunks made.
    std::size_t bytes() const {
        std::size_t n = 0;
        for (const auto& chunk : chunks_)
            n += chunk ? sizeof(Chunk) : 0;
        return n;
    }

private:
    std::array<std::unique_ptr<Chunk>, kChunks> chunks_;
};

} // namespace trueno::store
