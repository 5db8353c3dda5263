// An anonymous private mapping owned by one object: the only way the store takes memory for
// objects and its slot table from the OS (lazily faulted, returned with munmap/madvise).
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "trueno/result.hpp"

namespace trueno::store {

class MappedRegion {
public:
    MappedRegion() = default;
    // Reserves `bytes` (rounded up to pages) of zero-filled address space; pages cost memory
    // only once touched (MAP_NORESERVE).
    static Result<MappedRegion> map(std::size_t bytes);

    MappedRegion(MappedRegion&& other) noexcept
        : base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    MappedRegion& operator=(MappedRegion&& other) noexcept;
    MappedRegion(const MappedRegion&) = delete;
    MappedRegion& operator=(const MappedRegion&) = delete;
    ~MappedRegion() { unmap(); }

    std::byte* data() const { return base_; }
    std::size_t size() const { return size_; }
    bool mapped() const { return base_ != nullptr; }

    // Gives the physical pages of [offset, offset + bytes) back to the OS; they read as zeros
    // afterwards. Offsets are page-aligned. False if the OS refused (the pages stay in use).
    bool release(std::size_t offset, std::size_t bytes);
    // Faults in [offset, offset + bytes) (page-aligned) without changing its contents, so a
    // later access does not fault. False if the OS could not provide the memory.
    bool populate(std::size_t offset, std::size_t bytes);
    // Faults in [offset, offset + bytes) by writing a zero into each page: only for pages no
    // one else uses (never-touched or given-back pages read as zeros anyway). Unlike populate()
    // it takes no mmap lock: an ordinary fault holds only this mapping's lock, so reclaim
    // during it cannot stall another thread that needs the process's mmap lock.
    void touch_unused(std::size_t offset, std::size_t bytes);
    void unmap();

private:
    MappedRegion(std::byte* base, std::size_t size) : base_(base), size_(size) {}
    std::byte* base_ = nullptr;
    std::size_t size_ = 0;
};

// The same for any mapped memory (e.g. a vector's spare capacity).
bool populate_range(void* begin, std::size_t bytes);

} // namespace trueno::store
