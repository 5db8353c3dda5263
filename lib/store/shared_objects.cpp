#include "shared_objects.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "word_lock.hpp"

namespace trueno::store {

namespace {

constexpr std::uint32_t kLocked = 1u << 31;
constexpr std::uint32_t kInUse = 1u << 0;
constexpr std::uint32_t kSparse = 1u << 1;

// Chunk 0 begins with this, then the handles of chunks 1..chunks-1, then one 32-bit page
// offset (from first_page) per member, then the payload, which runs on through the chunks.
struct Header {
    std::uint64_t serial;
    std::uint64_t first_page;
    std::uint32_t payload_size;
    std::uint16_t members;
    std::uint8_t codec;
    std::uint8_t raw;
    std::uint16_t chunks;
    std::uint16_t reserved[3];
};
static_assert(sizeof(Header) == 32);

std::size_t header_bytes(std::size_t chunks, std::size_t members) {
    return sizeof(Header) + (chunks - 1) * sizeof(Handle) + members * sizeof(std::uint32_t);
}

// The fewest chunks holding header and payload (the header grows by a handle per chunk).
std::size_t chunks_for(std::size_t payload, std::size_t members) {
    std::size_t chunks = 1;
    while (header_bytes(chunks, members) + payload > chunks * kPageSize) ++chunks;
    return chunks;
}

template <typename T> T load(const std::byte* at) {
    T value;
    std::memcpy(&value, at, sizeof value); // chunks are only 16-byte aligned
    return value;
}

std::atomic_ref<std::uint32_t> atomic(std::uint32_t& word) { return std::atomic_ref<std::uint32_t>(word); }

} // namespace

std::size_t SharedObjects::chunk_allocation(std::size_t members, std::size_t remaining) {
    if (remaining >= kPageSize) return kPageSize;
    if (members == 1) return remaining;
    // Group tails in 256-byte steps: 16 classes instead of 256, each with its partly used
    // top page, cost less than the rounding (measured on heap pages: ratio +1%).
    return std::min(kPageSize, (remaining + kTailStep - 1) / kTailStep * kTailStep);
}

std::size_t SharedObjects::allocated_bytes(std::size_t payload, std::size_t members) {
    const std::size_t chunks = chunks_for(payload, members);
    const std::size_t total = header_bytes(chunks, members) + payload;
    const std::size_t tail = chunk_allocation(members, total - (chunks - 1) * kPageSize);
    return (chunks - 1) * kPageSize +
           SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(tail));
}

SharedObjects::SharedObjects(SizeClassAllocator& allocator, std::byte* table, std::uint64_t capacity,
                             PersistentCounter& next_serial)
    : allocator_(allocator), table_(reinterpret_cast<Entry*>(table)),
      capacity_(std::min<std::uint64_t>(capacity, UINT32_MAX)), next_serial_(next_serial) {
    if (next_serial_.load() == 0) next_serial_.store(1); // serial 0 means "no object" to the cache
}

SharedObjects::~SharedObjects() = default; // the allocator's segments go with the allocator

// The entry's lock: a WordLock on kLocked (the stores of the whole flag word under the lock
// keep the bit set, as its contract requires).
void SharedObjects::lock(Entry& e) const {
    WordLock<kLocked>::lock(e.flags);
}

bool SharedObjects::try_lock(Entry& e) const {
    return WordLock<kLocked>::try_lock(e.flags);
}

void SharedObjects::unlock(Entry& e) const {
    WordLock<kLocked>::unlock(e.flags);
}

Result<std::uint32_t> SharedObjects::create(std::span<const std::byte> payload,
                                            std::span<const std::uint64_t> member_pages,
                                            std::uint32_t codec, bool raw) {
    const std::size_t members = member_pages.size();
    if (members == 0 || members > kMaxMembers || payload.size() > kMaxPayload || codec > 255)
        return make_error(EINVAL, "shared object: bad shape");
    const std::uint64_t first = *std::min_element(member_pages.begin(), member_pages.end());
    for (auto page : member_pages)
        if (page - first > UINT32_MAX) return make_error(EINVAL, "shared object: members too far apart");

    // The whole object laid out contiguously first, then cut into chunks.
    const std::size_t chunks = chunks_for(payload.size(), members);
    std::vector<std::byte> image(header_bytes(chunks, members) + payload.size());
    std::vector<Handle> handles;
    handles.reserve(chunks);

    std::uint32_t id = 0;
    {
        std::lock_guard guard(ids_mutex_);
        if (free_head_ != 0) {
            id = free_head_ - 1;
            free_head_ = static_cast<std::uint32_t>(entry(id).head);
        } else if (high_water_ < capacity_) {
            id = high_water_++;
        } else {
            return make_error(ENOSPC, "every shared object id is in use");
        }
    }
    auto give_back = [&] {
        for (auto handle : handles) allocator_.free(handle);
        std::lock_guard guard(ids_mutex_);
        entry(id).head = free_head_;
        free_head_ = id + 1;
    };
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t size = chunk_allocation(members, image.size() - c * kPageSize);
        auto handle = allocator_.allocate(size, kOwnerBit | (std::uint64_t{id} << 8) | c);
        if (!handle) {
            give_back();
            return handle.error();
        }
        handles.push_back(*handle);
    }

    Header header{};
    header.serial = next_serial_.fetch_add(1);
    header.first_page = first;
    header.payload_size = static_cast<std::uint32_t>(payload.size());
    header.members = static_cast<std::uint16_t>(members);
    header.codec = static_cast<std::uint8_t>(codec);
    header.raw = raw ? 1 : 0;
    header.chunks = static_cast<std::uint16_t>(chunks);
    std::byte* at = image.data();
    std::memcpy(at, &header, sizeof header);
    at += sizeof header;
    std::memcpy(at, handles.data() + 1, (chunks - 1) * sizeof(Handle));
    at += (chunks - 1) * sizeof(Handle);
    for (auto page : member_pages) {
        const auto offset = static_cast<std::uint32_t>(page - first);
        std::memcpy(at, &offset, sizeof offset);
        at += sizeof offset;
    }
    std::memcpy(at, payload.data(), payload.size());
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t size = std::min(kPageSize, image.size() - c * kPageSize);
        std::memcpy(allocator_.address(handles[c]), image.data() + c * kPageSize, size);
    }

    Entry& e = entry(id);
    lock(e);
    e.head = handles[0];
    atomic(e.refs).store(1, std::memory_order_relaxed);
    atomic(e.flags).store(kLocked | kInUse, std::memory_order_relaxed);
    unlock(e);
    live_.fetch_add(1, std::memory_order_relaxed);
    return id;
}

void SharedObjects::get(std::uint32_t id) {
    atomic(entry(id).refs).fetch_add(1, std::memory_order_relaxed);
}

bool SharedObjects::try_get(std::uint32_t id) {
    if (id >= capacity_) return false;
    Entry& e = entry(id);
    lock(e);
    const bool live = (atomic(e.flags).load(std::memory_order_relaxed) & kInUse) &&
                      atomic(e.refs).load(std::memory_order_relaxed) != 0;
    if (live) atomic(e.refs).fetch_add(1, std::memory_order_relaxed);
    unlock(e);
    return live;
}

std::uint32_t SharedObjects::refs(std::uint32_t id) const {
    return atomic(entry(id).refs).load(std::memory_order_relaxed);
}

void SharedObjects::free_chunks(Entry& e) {
    const std::byte* head = header(e);
    const auto h = load<Header>(head);
    for (std::size_t c = 1; c < h.chunks; ++c)
        allocator_.free(load<Handle>(head + sizeof(Header) + (c - 1) * sizeof(Handle)));
    allocator_.free(e.head);
}

SharedObjects::Dropped SharedObjects::put(std::uint32_t id) {
    Entry& e = entry(id);
    lock(e); // the header's place changes under compaction
    const auto h = load<Header>(header(e));
    const std::uint32_t left = atomic(e.refs).fetch_sub(1, std::memory_order_acq_rel) - 1;
    const Dropped dropped{left, h.members, h.payload_size};
    if (left != 0) {
        unlock(e);
        return dropped;
    }
    free_chunks(e);
    atomic(e.flags).store(kLocked, std::memory_order_relaxed); // not in use, not sparse
    unlock(e);
    live_.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard guard(ids_mutex_);
    e.head = free_head_;
    free_head_ = id + 1;
    return dropped;
}

SharedObjects::Info SharedObjects::read(std::uint32_t id, std::span<std::byte> payload) {
    Entry& e = entry(id);
    lock(e);
    const std::byte* head = header(e);
    const auto h = load<Header>(head);
    Info info{h.serial, h.payload_size, h.members, h.codec, h.raw != 0, h.first_page};
    if (payload.size() >= h.payload_size) {
        // The payload starts after the header in chunk 0 and continues chunk by chunk.
        std::size_t offset = header_bytes(h.chunks, h.members);
        std::size_t done = 0;
        for (std::size_t c = 0; done < h.payload_size; ++c, offset = 0) {
            const std::byte* chunk =
                c == 0 ? head
                       : allocator_.address(load<Handle>(head + sizeof(Header) + (c - 1) * sizeof(Handle)));
            const std::size_t take = std::min<std::size_t>(kPageSize - offset, h.payload_size - done);
            std::memcpy(payload.data() + done, chunk + offset, take);
            done += take;
        }
    }
    unlock(e);
    return info;
}

std::uint64_t SharedObjects::member_page(std::uint32_t id, std::uint32_t member) {
    Entry& e = entry(id);
    lock(e);
    const std::byte* head = header(e);
    const auto h = load<Header>(head);
    const auto offset = load<std::uint32_t>(head + sizeof(Header) + (h.chunks - 1) * sizeof(Handle) +
                                            member * sizeof(std::uint32_t));
    unlock(e);
    return h.first_page + offset;
}

void SharedObjects::mark_sparse(std::uint32_t id) {
    atomic(entry(id).flags).fetch_or(kSparse, std::memory_order_relaxed);
}

std::vector<std::uint32_t> SharedObjects::take_sparse() {
    std::uint32_t high = 0;
    {
        std::lock_guard guard(ids_mutex_);
        high = high_water_;
    }
    std::vector<std::uint32_t> ids;
    for (std::uint32_t id = 0; id < high; ++id) {
        auto flags = atomic(entry(id).flags);
        if ((flags.load(std::memory_order_relaxed) & (kInUse | kSparse)) != (kInUse | kSparse)) continue;
        flags.fetch_and(~kSparse, std::memory_order_relaxed);
        ids.push_back(id);
    }
    return ids;
}

bool SharedObjects::try_move(std::uint64_t owner, Handle from, Handle to,
                             std::span<const std::byte> source, std::span<std::byte> target) {
    const auto id = static_cast<std::uint32_t>((owner & ~kOwnerBit) >> 8);
    const std::size_t chunk = owner & 0xff;
    if (id >= capacity_) return false;
    Entry& e = entry(id);
    if (!try_lock(e)) return false; // busy: compaction never waits
    bool moved = false;
    if (atomic(e.flags).load(std::memory_order_relaxed) & kInUse) {
        std::byte* head = header(e);
        if (chunk == 0 && e.head == from) {
            std::memcpy(target.data(), source.data(), source.size());
            std::atomic_signal_fence(std::memory_order_release); // copied before re-pointed
            e.head = to;
            moved = true;
        } else if (chunk != 0 && chunk < load<Header>(head).chunks) {
            std::byte* slot = head + sizeof(Header) + (chunk - 1) * sizeof(Handle);
            if (load<Handle>(slot) == from) {
                std::memcpy(target.data(), source.data(), source.size());
                std::atomic_signal_fence(std::memory_order_release);
                std::memcpy(slot, &to, sizeof to); // one aligned 8-byte store
                moved = true;
            }
        }
    }
    unlock(e);
    return moved;
}

void SharedObjects::begin_adoption(std::uint32_t high_water) {
    high_water = static_cast<std::uint32_t>(std::min<std::uint64_t>(high_water, capacity_));
    for (std::uint32_t id = 0; id < high_water; ++id) {
        Entry& e = entry(id);
        atomic(e.flags).store(0, std::memory_order_relaxed); // no lock holder survived
        atomic(e.refs).store(0, std::memory_order_relaxed);
    }
    std::lock_guard guard(ids_mutex_);
    high_water_ = high_water;
    free_head_ = 0;
    live_.store(0, std::memory_order_relaxed);
}

Result<SharedObjects::Info> SharedObjects::inspect(std::uint32_t id) const {
    auto damaged = [&](const char* why) {
        return make_error(EBADMSG, "shared object " + std::to_string(id) + ": " + why);
    };
    if (id >= capacity_) return damaged("id out of range");
    const Entry& e = entry(id);
    if (!allocator_.valid(e.head)) return damaged("first chunk outside the store");
    const std::byte* head = header(e);
    const auto h = load<Header>(head);
    if (h.members == 0 || h.members > kMaxMembers || h.payload_size > kMaxPayload || h.chunks == 0 ||
        h.chunks != chunks_for(h.payload_size, h.members))
        return damaged("header is not one the store writes");
    for (std::size_t c = 1; c < h.chunks; ++c)
        if (!allocator_.valid(load<Handle>(head + sizeof(Header) + (c - 1) * sizeof(Handle))))
            return damaged("a chunk lies outside the store");
    return Info{h.serial, h.payload_size, h.members, h.codec, h.raw != 0, h.first_page};
}

Status SharedObjects::adopt(std::uint32_t id, std::uint32_t refs) {
    auto info = inspect(id);
    if (!info) return info.error();
    Entry& e = entry(id);
    const std::byte* head = header(e);
    const auto h = load<Header>(head);
    for (std::size_t c = 0; c < h.chunks; ++c) {
        const Handle handle = c == 0 ? e.head : load<Handle>(head + sizeof(Header) + (c - 1) * sizeof(Handle));
        if (auto st = allocator_.adopt(handle, kOwnerBit | (std::uint64_t{id} << 8) | c); !st)
            return make_error(st.error().code, "shared object " + std::to_string(id) + ": " + st.error().message);
    }
    atomic(e.refs).store(refs, std::memory_order_relaxed);
    const bool sparse = h.members > 1 && refs <= h.members / 2u;
    atomic(e.flags).store(kInUse | (sparse ? kSparse : 0u), std::memory_order_relaxed);
    live_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard guard(ids_mutex_);
    high_water_ = std::max(high_water_, id + 1);
    return {};
}

void SharedObjects::finish_adoption(std::uint64_t max_serial) {
    std::lock_guard guard(ids_mutex_);
    free_head_ = 0;
    for (std::uint32_t id = high_water_; id-- > 0;) {
        Entry& e = entry(id);
        if (atomic(e.flags).load(std::memory_order_relaxed) & kInUse) continue;
        e.head = free_head_; // lowest ids are handed out first
        free_head_ = id + 1;
    }
    next_serial_.raise_to(max_serial + 1);
}

} // namespace trueno::store
