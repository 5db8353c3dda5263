#include "mapped_region.hpp"

#include <sys/mman.h>

#include <cerrno>
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

void MappedRegion::unmap() {
    if (base_ != nullptr) {
        ::munmap(base_, size_);
        base_ = nullptr;
        size_ = 0;
    }
}

} // namespace trueno::store
