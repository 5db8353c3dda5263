// The memory a store keeps everything in: one large mapping, reserved up front and faulted in
// page by page. Either private to this process (gone when it exits), or a System V shared
// memory segment that outlives the process:
//   - the kernel keeps it until it is removed (IPC_RMID) or the machine reboots;
//   - it is locked in RAM with SHM_LOCK whether or not a process has it attached, so it can
//     never be swapped out to the very device it backs while no server runs;
//   - a new process finds it again by its key and maps it at any address (the store keeps
//     offsets in it, never pointers).
// POSIX shared memory or a memfd would outlive the process only while someone holds them, and
// their pages could be swapped out: neither fits memory that must wait for its next server.
#pragma once

#include "trueno/result.hpp"

#include <cstddef>
#include <cstdint>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace trueno::store {

class Arena {
public:
    Arena() = default;
    // Reserves `bytes` (rounded up to pages) of zero-filled, lazily faulted memory.
    static Result<Arena> create_private(std::size_t bytes);
    // Creates System V segment `key` (EEXIST if it exists), locks it (SHM_LOCK) and attaches
    // it read-write. Only the pages touched cost memory (SHM_NORESERVE).
    static Result<Arena> create_shared(key_t key, std::size_t bytes);
    // Attaches the existing segment `key` (ENOENT when there is none). Read-only mappings are
    // for looking at a segment that may not be ours.
    static Result<Arena> attach_shared(key_t key, bool read_only = false);
    // Removes segment `key`: its memory goes once no process has it attached. ENOENT: none.
    static Status remove_shared(key_t key);
    // The keys in [first, last] that have a segment now (from /proc/sysvipc/shm).
    static std::vector<key_t> shared_keys(key_t first, key_t last);

    Arena(Arena&& other) noexcept { *this = std::move(other); }
    Arena& operator=(Arena&& other) noexcept;
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena() { unmap(); }

    std::byte* data() const { return base_; }
    std::size_t size() const { return size_; }
    bool shared() const { return shmid_ >= 0; }
    int shmid() const { return shmid_; }

    // Gives the pages of [offset, offset + bytes) back to the OS (page-aligned); they read as
    // zeros afterwards. False if the OS refused (the pages stay in use).
    bool release(std::size_t offset, std::size_t bytes);
    // Faults [offset, offset + bytes) in without changing it, so later accesses do not fault.
    bool populate(std::size_t offset, std::size_t bytes);
    // Faults pages in by writing a zero into each: only for pages no one uses (see
    // MappedRegion::touch_unused for why this rather than populate()).
    void touch_unused(std::size_t offset, std::size_t bytes);
    // Maps into this process every page of [offset, offset + bytes) that is already in memory
    // (mincore), allocating none: a process that takes over a segment another one filled has
    // none of its pages in its page tables. Counts the pages mapped and those in memory it
    // could not map (the populate failed, e.g. no memory for the page tables).
    struct ResidentMapping {
        std::uint64_t mapped_pages = 0;
        std::uint64_t unmapped_pages = 0;
    };
    Result<ResidentMapping> map_resident(std::size_t offset, std::size_t bytes);

private:
    Arena(std::byte* base, std::size_t size, int shmid) : base_(base), size_(size), shmid_(shmid) {}
    void unmap();

    std::byte* base_ = nullptr;
    std::size_t size_ = 0;
    int shmid_ = -1; // -1: private memory
};

} // namespace trueno::store
