#include "arena.hpp"

#include "mapped_region.hpp"
#include "trueno/page.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

namespace trueno::store {

namespace {

std::size_t round_to_pages(std::size_t bytes) {
    return (bytes + kPageSize - 1) / kPageSize * kPageSize;
}

std::string key_text(key_t key) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(key));
    return text;
}

Error shm_error(const std::string& what, key_t key, int err) {
    std::string hint;
    if (err == EPERM || err == EACCES)
        hint = " (needs root or CAP_IPC_LOCK to lock the segment in RAM)";
    else if (err == EINVAL || err == ENOSPC)
        hint = " (kernel.shmmax, kernel.shmall or kernel.shmmni too small for the store?)";
    else if (err == ENOMEM)
        hint = " (with vm.overcommit_memory=2 the whole segment is committed up front)";
    return make_error(err, what + " of shared memory segment " + key_text(key) + ": " +
                               std::strerror(err) + hint);
}

} // namespace

Result<Arena> Arena::create_private(std::size_t bytes) {
    const std::size_t size = round_to_pages(bytes);
    if (size == 0)
        return make_error(EINVAL, "cannot map an empty arena");
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        const int err = errno;
        return make_error(ENOMEM, "mmap of " + std::to_string(size) +
                                      " bytes failed: " + std::strerror(err));
    }
    return Arena(static_cast<std::byte*>(base), size, -1);
}

Result<Arena> Arena::create_shared(key_t key, std::size_t bytes) {
    const std::size_t size = round_to_pages(bytes);
    if (size == 0)
        return make_error(EINVAL, "cannot create an empty arena");
    const int id = ::shmget(key, size, IPC_CREAT | IPC_EXCL | SHM_NORESERVE | 0600);
    if (id < 0)
        return shm_error("shmget", key, errno);
    // Locked before anything is written: no page of it may ever go to swap.
    if (::shmctl(id, SHM_LOCK, nullptr) != 0) {
        const int err = errno;
        ::shmctl(id, IPC_RMID, nullptr);
        return shm_error("SHM_LOCK", key, err);
    }
    void* base = ::shmat(id, nullptr, 0);
    if (base == reinterpret_cast<void*>(-1)) {
        const int err = errno;
        ::shmctl(id, IPC_RMID, nullptr);
        return shm_error("shmat", key, err);
    }
    Arena arena(static_cast<std::byte*>(base), size, id);
    // Under mlockall(MCL_FUTURE) the new mapping is VM_LOCKED, which makes MADV_REMOVE (how
    // pages go back) fail; SHM_LOCK already keeps every page of the segment in RAM.
    ::munlock(base, size);
    return arena;
}

Result<Arena> Arena::attach_shared(key_t key, bool read_only) {
    const int id = ::shmget(key, 0, 0);
    if (id < 0) {
        const int err = errno;
        if (err == ENOENT)
            return make_error(ENOENT, "no shared memory segment " + key_text(key));
        return shm_error("shmget", key, err);
    }
    shmid_ds info{};
    if (::shmctl(id, IPC_STAT, &info) != 0)
        return shm_error("IPC_STAT", key, errno);
    void* base = ::shmat(id, nullptr, read_only ? SHM_RDONLY : 0);
    if (base == reinterpret_cast<void*>(-1))
        return shm_error("shmat", key, errno);
    if (!read_only) {
        // A segment created before a reboot cannot exist; one from an older run of this
        // program was locked at creation. Lock again anyway: the lock is what keeps the pages
        // of a dead server's store out of swap.
        (void)::shmctl(id, SHM_LOCK, nullptr);
        ::munlock(base, info.shm_segsz);
    }
    return Arena(static_cast<std::byte*>(base), info.shm_segsz, id);
}

Result<Arena::ResidentMapping> Arena::map_resident(std::size_t offset, std::size_t bytes) {
    if (offset % kPageSize != 0 || offset > size_ || bytes > size_ - offset)
        return make_error(EINVAL, "range outside the arena");
    // Probed 64 MiB at a time: the arena's address space may be gigabytes, mostly holes.
    constexpr std::size_t kProbePages = 16384;
    std::vector<unsigned char> in_core(kProbePages);
    ResidentMapping result;
    const std::size_t end = offset + bytes / kPageSize * kPageSize;
    for (std::size_t at = offset; at < end; at += kProbePages * kPageSize) {
        const std::size_t pages = std::min(kProbePages, (end - at) / kPageSize);
        if (::mincore(base_ + at, pages * kPageSize, in_core.data()) != 0) {
            const int err = errno;
            return make_error(err, std::string("mincore of the store's memory: ") + std::strerror(err));
        }
        for (std::size_t p = 0; p < pages;) {
            if ((in_core[p] & 1) == 0) {
                ++p;
                continue;
            }
            std::size_t q = p;
            while (q < pages && (in_core[q] & 1) != 0) ++q;
            // MADV_POPULATE_WRITE maps a page that is there and allocates one that is not:
            // nothing else changes the segment while it is taken over, so these are all there.
            if (populate(at + p * kPageSize, (q - p) * kPageSize))
                result.mapped_pages += q - p;
            else
                result.unmapped_pages += q - p;
            p = q;
        }
    }
    return result;
}

Status Arena::remove_shared(key_t key) {
    const int id = ::shmget(key, 0, 0);
    if (id < 0) {
        const int err = errno;
        if (err == ENOENT)
            return make_error(ENOENT, "no shared memory segment " + key_text(key));
        return shm_error("shmget", key, err);
    }
    if (::shmctl(id, IPC_RMID, nullptr) != 0)
        return shm_error("IPC_RMID", key, errno);
    return {};
}

std::vector<key_t> Arena::shared_keys(key_t first, key_t last) {
    std::vector<key_t> keys;
    std::ifstream in("/proc/sysvipc/shm");
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        long long key = 0;
        if (fields >> key && key >= first && key <= last)
            keys.push_back(static_cast<key_t>(key));
    }
    return keys;
}

Arena& Arena::operator=(Arena&& other) noexcept {
    if (this != &other) {
        unmap();
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
        shmid_ = std::exchange(other.shmid_, -1);
    }
    return *this;
}

bool Arena::release(std::size_t offset, std::size_t bytes) {
    if (bytes == 0)
        return true;
    if (shared()) {
        // Shared memory keeps its pages in the segment: only punching a hole frees them.
        return ::madvise(base_ + offset, bytes, MADV_REMOVE) == 0;
    }
    if (::madvise(base_ + offset, bytes, MADV_DONTNEED) == 0)
        return true;
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
    // Under mlockall() private mappings are locked: only MADV_DONTNEED_LOCKED (5.18) drops them.
    return errno == EINVAL && ::madvise(base_ + offset, bytes, MADV_DONTNEED_LOCKED) == 0;
}

bool Arena::populate(std::size_t offset, std::size_t bytes) {
    return populate_range(base_ + offset, bytes);
}

void Arena::touch_unused(std::size_t offset, std::size_t bytes) {
    auto* page = static_cast<volatile std::byte*>(base_ + offset);
    for (std::size_t done = 0; done < bytes; done += kPageSize)
        page[done] = std::byte{0};
}

void Arena::unmap() {
    if (base_ == nullptr)
        return;
    if (shared())
        ::shmdt(base_); // the segment stays until it is removed
    else
        ::munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
    shmid_ = -1;
}

} // namespace trueno::store
