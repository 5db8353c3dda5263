#include "mapped_region.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "trueno/page.hpp"

namespace trueno::store {

Result<MappedRegion> MappedRegion::map(std::size_t bytes) {
    const std::size_t size = (bytes + kPageSize - 1) / kPageSize * kPageSize;
    if (size == 0) return make_error(EINVAL, "cannot map an empty region");
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        const int err = errno;
        return make_error(ENOMEM, "mmap of " + std::to_string(size) + " bytes failed: " +
                                      std::strerror(err));
    }
    return MappedRegion(static_cast<std::byte*>(base), size);
}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
    if (this != &other) {
        unmap();
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

bool MappedRegion::release(std::size_t offset, std::size_t bytes) {
    // MADV_DONTNEED on private anonymous memory frees the pages at once (RSS drops) and keeps
    // the mapping, so no VMA is split or created. A daemon under mlockall() has locked
    // mappings, where only MADV_DONTNEED_LOCKED (Linux 5.18) may drop pages.
    if (::madvise(base_ + offset, bytes, MADV_DONTNEED) == 0) return true;
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
    return errno == EINVAL && ::madvise(base_ + offset, bytes, MADV_DONTNEED_LOCKED) == 0;
}

bool populate_range(void* begin, std::size_t bytes) {
    if (bytes == 0) return true;
    // Rounded outwards: the pages holding the first and last byte are mapped by definition.
    const auto first = reinterpret_cast<std::uintptr_t>(begin) / kPageSize * kPageSize;
    const auto end = (reinterpret_cast<std::uintptr_t>(begin) + bytes + kPageSize - 1) / kPageSize *
                     kPageSize;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    // Linux 5.14+: faults the pages in writable, leaving contents alone (safe while others
    // write to them).
    return ::madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE) == 0;
}

bool MappedRegion::populate(std::size_t offset, std::size_t bytes) {
    return populate_range(base_ + offset, bytes);
}

void MappedRegion::touch_unused(std::size_t offset, std::size_t bytes) {
    auto* page = static_cast<volatile std::byte*>(base_ + offset);
    for (std::size_t done = 0; done < bytes; done += kPageSize) page[done] = std::byte{0};
}

void MappedRegion::unmap() {
    if (base_ != nullptr) {
        ::munmap(base_, size_);
        base_ = nullptr;
        size_ = 0;
    }
}

} // namespace trueno::store
