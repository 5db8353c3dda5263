#include "compressed_page_store.hpp"
#include "reserve_sizing.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include "io_path_warmup.hpp"
#include "trueno/same_fill.hpp"
#include "trueno/thread_pool.hpp"

namespace trueno {

Result<std::unique_ptr<PageStore>> PageStore::create(const StoreConfig& config) {
    return store::CompressedPageStore::create(config);
}

Result<std::unique_ptr<PageStore>> PageStore::attach(std::int32_t key, const StoreConfig& runtime) {
    return store::CompressedPageStore::attach(key, runtime);
}

Status PageStore::remove_shared_memory(std::int32_t key) { return store::Arena::remove_shared(key); }

bool PageStore::is_shared_store(std::int32_t key) {
    auto arena = store::Arena::attach_shared(key, /*read_only=*/true);
    return arena && arena->size() >= store::kArenaMagic.size() &&
           std::memcmp(arena->data(), store::kArenaMagic.data(), store::kArenaMagic.size()) == 0;
}

std::vector<std::int32_t> PageStore::shared_memory_keys(std::int32_t first, std::int32_t last) {
    std::vector<std::int32_t> keys;
    for (key_t key : store::Arena::shared_keys(first, last)) keys.push_back(key);
    return keys;
}

} // namespace trueno

namespace trueno::store {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
// Objects allocated but not yet installed (one per writer in flight) on top of one per page.
constexpr std::uint64_t kInFlightObjects = 65536;

std::uint64_t pages_for(std::uint64_t bytes) { return bytes / kPageSize + (bytes % kPageSize != 0); }

std::int64_t monotonic_seconds() {
    std::timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now); // vDSO: no syscall
    return now.tv_sec;
}

std::uint64_t ram_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    return pages > 0 ? static_cast<std::uint64_t>(pages) * kPageSize : std::uint64_t{1} << 40;
}

ArenaHeader& header_of(Arena& arena) { return *reinterpret_cast<ArenaHeader*>(arena.data()); }

} // namespace

Result<std::unique_ptr<PageStore>> CompressedPageStore::create(const StoreConfig& config) {
    if (config.disksize == 0) return make_error(EINVAL, "disksize must be greater than 0");
    const std::uint64_t pages = pages_for(config.disksize);
    if (pages > (std::numeric_limits<std::uint64_t>::max() / kPageSize) ||
        pages > (std::uint64_t{1} << 40))
        return make_error(EINVAL, "disksize " + std::to_string(config.disksize) + " is too large");
    const unsigned streams =
        config.streams != 0 ? config.streams : std::max(1u, std::thread::hardware_concurrency());
    auto pool = StreamPool::create(config.algorithm, config.params, streams);
    if (!pool) return pool.error();

    const ArenaGeometry geometry = plan_arena(pages, pages + kInFlightObjects, ram_bytes());
    auto arena = config.shared_memory_key != 0
                     ? Arena::create_shared(config.shared_memory_key, geometry.arena_bytes)
                     : Arena::create_private(geometry.arena_bytes);
    if (!arena) return arena.error();
    ArenaHeader& h = header_of(*arena);
    h.geometry = geometry;
    std::uint64_t dict_offset = 0;
    if (config.params.dictionary) {
        const auto& dict = *config.params.dictionary;
        if (dict.size() > geometry.blobs_bytes)
            return make_error(E2BIG, "dictionary larger than the store's dictionary area");
        std::memcpy(arena->data() + geometry.blobs_offset, dict.data(), dict.size());
        h.blobs_used.store(dict.size());
    }
    h.identity.codec = codec_record(config.algorithm, config.params, dict_offset);
    h.identity.disksize = pages * kPageSize;
    h.identity.streams = streams;
    h.identity.created_seconds = monotonic_seconds();
    h.limit_pages.store(pages_for(config.mem_limit));
    h.next_serial.store(1);
    h.checksum = header_checksum(h);
    // Version 2 only once a backing device is set (set_backing_device): until then an older
    // daemon can take the store over.
    h.layout_version = kLayoutVersionWithoutWriteback;
    h.header_bytes = kHeaderBytesVersion1;
    std::atomic_signal_fence(std::memory_order_release);
    h.magic = kArenaMagic; // last: a store killed while being made is not one

    std::unique_ptr<CompressedPageStore> store(
        new CompressedPageStore(std::move(*arena), config.algorithm, config.params, std::move(pool.value())));
    if (auto st = store->prepare_for_io(config, false); !st)
        return st.error();
    return std::unique_ptr<PageStore>(std::move(store));
}

Result<std::unique_ptr<PageStore>> CompressedPageStore::attach(std::int32_t key, const StoreConfig& runtime) {
    auto arena = Arena::attach_shared(key);
    if (!arena) return arena.error();
    const ArenaHeader& h = header_of(*arena);
    if (arena->size() < kHeaderBytes) return make_error(EBADMSG, "shared memory segment too small for a store");
    if (auto st = check_header(h, arena->size()); !st) return st.error();
    const std::string algorithm = record_text(h.identity.codec.algorithm);
    if (find_codec(algorithm) == nullptr)
        return make_error(EPROTO, "the store's pages are compressed with " + algorithm +
                                      ", which this trueno-zramd does not have (available: " +
                                      available_codec_names() + ")");
    // Params (and the dictionary) exactly as the pages were compressed with them.
    CodecParams params;
    if (h.identity.codec.has_level) params.level = h.identity.codec.level;
    params.dict_path = record_text(h.identity.codec.dict_path);
    if (h.identity.codec.dict_bytes != 0) {
        const auto& c = h.identity.codec;
        if (c.dict_offset > h.geometry.blobs_bytes || c.dict_bytes > h.geometry.blobs_bytes - c.dict_offset)
            return make_error(EBADMSG, "the store's dictionary lies outside it (corrupted)");
        params.dictionary = std::make_shared<const std::vector<std::byte>>(
            arena->data() + h.geometry.blobs_offset + c.dict_offset,
            arena->data() + h.geometry.blobs_offset + c.dict_offset + c.dict_bytes);
    }
    auto pool = StreamPool::create(algorithm, params, std::max(1u, h.identity.streams));
    if (!pool) return make_error(EPROTO, "the store's codec cannot be made: " + pool.error().message);

    std::unique_ptr<CompressedPageStore> store(
        new CompressedPageStore(std::move(*arena), algorithm, std::move(params), std::move(pool.value())));
    if (auto st = store->replay_generations(); !st) return st.error();
    // A store that will serve swap keeps the populated pages it finds as its reserve.
    store->rebuild(runtime.never_fault_on_io);
    if (runtime.never_fault_on_io) {
        // Every page the dead server left in memory is mapped here now, before I/O: its page
        // tables died with it. An I/O thread's first access to each would otherwise fault; in
        // the kill-loop VM test's hang such faults waited for the process's mmap_lock (the
        // kernel stacks), queued behind a thread about to change a mapping, itself behind one
        // in reclaim waiting for swap writes to this device.
        auto mapped = store->arena_.map_resident(0, store->arena_.size());
        if (!mapped) return mapped.error();
        store->takeover_mapping_ = {mapped->mapped_pages, mapped->unmapped_pages};
    }
    store->header_.attaches.add(1);
    if (auto st = store->prepare_for_io(runtime, true); !st)
        return st.error();
    return std::unique_ptr<PageStore>(std::move(store));
}

CompressedPageStore::CompressedPageStore(Arena arena, std::string algorithm, CodecParams params,
                                         std::unique_ptr<StreamPool> streams)
    : arena_(std::move(arena)), header_(header_of(arena_)), algorithm_(std::move(algorithm)),
      params_(std::move(params)),
      slots_(arena_.data() + header_.geometry.slots_offset, header_.geometry.pages),
      streams_(std::move(streams)),
      allocator_(std::make_unique<SizeClassAllocator>(
          arena_, header_.geometry,
          SizeClassAllocator::Counters{header_.limit_pages, header_.max_used_pages, header_.pages_compacted})),
      objects_(*allocator_, arena_.data() + header_.geometry.objects_offset, header_.geometry.object_capacity,
               header_.next_serial),
      recomp_(streams_->size()), huge_pages_since_(header_.huge_pages_since),
      failed_reads_(header_.failed_reads), failed_writes_(header_.failed_writes),
      invalid_io_(header_.invalid_io), notify_free_(header_.notify_free) {}

Status CompressedPageStore::prepare_for_io(const StoreConfig& runtime, bool taken_over) {
    if (!runtime.never_fault_on_io) return {};
    // See StoreConfig: nothing on the I/O path may fault. The header (counters) and the whole
    // slot table (16 bytes per page, as kernel zram's table) are faulted in now.
    if (!arena_.populate(0, kHeaderBytes) ||
        !arena_.populate(header_.geometry.slots_offset, (slots_.bytes() + kPageSize - 1) / kPageSize * kPageSize))
        return make_error(ENOMEM, "cannot populate the slot table");
    if (auto warm = warm_streams(*streams_, StreamUse::write_and_read); !warm)
        return warm.error();
    // A store taken over with groups reads them at once; a new one populates the cache before
    // its first group (flush_group).
    if (groups_.load(std::memory_order_relaxed) != 0 && !group_cache_.populate())
        return make_error(ENOMEM, "cannot populate the multi-page read cache");
    allocator_->set_maintenance([this] { maintain(); });
    const std::uint64_t budget =
        runtime.reserve_limit_bytes != 0
            ? runtime.reserve_limit_bytes
            : reserve_budget_bytes(physical_memory_bytes(), allocator_->limit_pages() * kPageSize);
    allocator_->enable_reserve(std::max<std::uint32_t>(1, runtime.reserve_pages_per_class),
                               runtime.refill_thread, runtime.refill_thread_setup,
                               std::max<std::uint64_t>(1, budget / kPageSize), taken_over);
    return {};
}

std::uint32_t CompressedPageStore::now_seconds() const {
    return static_cast<std::uint32_t>(monotonic_seconds() - header_.identity.created_seconds);
}

Status CompressedPageStore::invalid(std::string what) {
    invalid_io_.fetch_add(1, kRelaxed);
    return make_error(EINVAL, std::move(what));
}

bool CompressedPageStore::range_valid(std::uint64_t offset, std::uint64_t length) const {
    return length <= disksize() && offset <= disksize() - length;
}

Result<CompressedPageStore::Content> CompressedPageStore::encode(std::uint64_t index,
                                                                 PageView page) {
    if (auto fill = same_fill_value(page)) return Content{slot_flags::kSame, *fill};
    auto stream = streams_->acquire();
    // A result that would not fit below the huge size comes back as 0: store the page raw.
    const std::size_t size =
        stream.codec().compress(page, std::span<std::byte>(stream.buffer()).first(kHugeSize - 1));
    const bool huge = size == 0;
    const std::size_t stored = huge ? kPageSize : size;
    auto handle = allocator_->allocate(stored, index);
    // Passed on as is: building a longer message would allocate on the I/O path, exactly when
    // memory is short (the allocator's messages fit the string's inline buffer).
    if (!handle) return handle.error();
    std::memcpy(allocator_->address(*handle), huge ? page.data() : stream.buffer().data(), stored);
    return Content{slot_flags::kObject | (huge ? slot_flags::kHuge : 0u) |
                       static_cast<std::uint32_t>(stored),
                   *handle};
}

CompressedPageStore::Content CompressedPageStore::install(Slot& slot, Content content) {
    constexpr std::uint32_t kContentBits = slot_flags::kSame | slot_flags::kObject |
                                           slot_flags::kHuge | slot_flags::kSizeMask |
                                           slot_flags::kCodecMask | slot_flags::kShared |
                                           slot_flags::kGroupMember | slot_flags::kBacked;
    const Content old{SlotTable::kind(slot) & kContentBits, slot.value};
    SlotTable::set_content(slot, content.kind, content.value, now_seconds()); // a new write is not idle

    if (!old.empty()) {
        stored_pages_.fetch_sub(1, kRelaxed);
        // A shared object's bytes are counted once, by the object (see drop_shared).
        if (old.kind & slot_flags::kSame) same_pages_.fetch_sub(1, kRelaxed);
        else if (old.kind & slot_flags::kGroupMember) grouped_pages_.fetch_sub(1, kRelaxed);
        // A written-back object's bytes left compr_data_size and huge_pages when it went.
        else if (old.kind & slot_flags::kBacked)
            backed_pages_.fetch_sub(1, kRelaxed);
        else if (!(old.kind & slot_flags::kShared))
            compr_data_size_.fetch_sub(old.kind & slot_flags::kSizeMask, kRelaxed);
        if ((old.kind & slot_flags::kHuge) && !(old.kind & slot_flags::kBacked))
            huge_pages_.fetch_sub(1, kRelaxed);
    }
    if (!content.empty()) {
        stored_pages_.fetch_add(1, kRelaxed);
        if (content.kind & slot_flags::kSame) same_pages_.fetch_add(1, kRelaxed);
        else compr_data_size_.fetch_add(content.kind & slot_flags::kSizeMask, kRelaxed);
        if (content.kind & slot_flags::kHuge) {
            huge_pages_.fetch_add(1, kRelaxed);
            huge_pages_since_.fetch_add(1, kRelaxed);
        }
    }
    return old;
}

void CompressedPageStore::release(Content old) {
    if (old.kind & slot_flags::kObject) allocator_->free(old.value);
    else if (old.kind & slot_flags::kShared) drop_shared(old.kind, static_cast<std::uint32_t>(old.value));
    else if (old.kind & slot_flags::kBacked) {
        // Its block is free again once nothing else lives in it (a damaged place is no one's).
        if (Backing* b = backing())
            (void)b->blocks.release(backing_location(old.value, old.kind & slot_flags::kSizeMask));
    }
}

void CompressedPageStore::touch(Slot& slot) {
    slot.access_time = now_seconds();
    SlotTable::set_kind(slot, SlotTable::kind(slot) & ~slot_flags::kIdle);
}

Status CompressedPageStore::decode(std::uint64_t index, Slot& slot, MutablePageView out) {
    const std::uint32_t kind = SlotTable::kind(slot);
    if (kind & slot_flags::kDamaged) {
        return make_error(EIO, "page " + std::to_string(index) +
                                   " was found damaged when the store was taken over; write it again");
    } else if (kind & slot_flags::kSame) {
        fill_page(out, slot.value);
    } else if (kind & slot_flags::kShared) {
        return decode_shared(index, kind, static_cast<std::uint32_t>(slot.value), out);
    } else if (kind & slot_flags::kBacked) {
        return decode_backed(index, kind, slot.value, out);
    } else if (!(kind & slot_flags::kObject)) {
        std::memset(out.data(), 0, kPageSize);
    } else {
        return decode_object(index, kind,
                             {allocator_->address(slot.value), kind & slot_flags::kSizeMask}, out);
    }
    return {};
}

Status CompressedPageStore::decode_object(std::uint64_t index, std::uint32_t kind,
                                          std::span<const std::byte> object, MutablePageView out) {
    if (kind & slot_flags::kHuge) {
        std::memcpy(out.data(), object.data(), kPageSize);
        return {};
    }
    const unsigned id = (kind & slot_flags::kCodecMask) >> slot_flags::kCodecShift;
    if (id != 0 && !recomp_.valid(id))
        return make_error(EIO, "page " + std::to_string(index) + ": stored with unknown codec " +
                                   std::to_string(id));
    auto stream = id == 0 ? streams_->acquire() : recomp_.at(id).streams->acquire();
    auto status = stream.codec().decompress(object, out);
    if (!status) {
        return make_error(EIO, "page " + std::to_string(index) + ": stored data does not "
                               "decompress (" + status.error().message + ")");
    }
    return {};
}

Status CompressedPageStore::write_page(std::uint64_t index, PageView data) {
    if (index >= page_count())
        return invalid("page " + std::to_string(index) + " is beyond the device's " +
                       std::to_string(page_count()) + " pages");
    // Compress and copy without the slot lock; only the handle swap is under it.
    auto content = encode(index, data);
    if (!content) {
        failed_writes_.fetch_add(1, kRelaxed);
        return content.error();
    }
    Slot& slot = slots_[index];
    Content old;
    {
        SlotGuard guard(slot);
        old = install(slot, *content);
    }
    release(old);
    return {};
}

Status CompressedPageStore::read_page(std::uint64_t index, MutablePageView out) {
    if (index >= page_count())
        return invalid("page " + std::to_string(index) + " is beyond the device's " +
                       std::to_string(page_count()) + " pages");
    Slot& slot = slots_[index];
    Status status;
    {
        SlotGuard guard(slot);
        status = decode(index, slot, out);
        touch(slot);
    }
    if (!status) {
        // A page that does not read back is data lost: said in the log (the first few, then
        // one in 1024), with what the store found, not only counted.
        const std::uint64_t failures = failed_reads_.fetch_add(1, kRelaxed);
        if (failures < 8 || failures % 1024 == 0)
            spdlog::error("page {} does not read back: {} ({} failed reads)", index, status.error().message,
                          failures + 1);
    }
    return status;
}

Status CompressedPageStore::write_partial(std::uint64_t index, std::size_t offset,
                                          std::span<const std::byte> data) {
    Slot& slot = slots_[index];
    alignas(64) std::array<std::byte, kPageSize> page;
    Content old;
    {
        // The whole read-modify-write holds the slot, so concurrent partial writes to one
        // page cannot lose each other's bytes.
        SlotGuard guard(slot);
        auto status = decode(index, slot, page);
        if (!status) {
            failed_writes_.fetch_add(1, kRelaxed);
            return status;
        }
        std::memcpy(page.data() + offset, data.data(), data.size());
        auto content = encode(index, page);
        if (!content) {
            failed_writes_.fetch_add(1, kRelaxed);
            return content.error();
        }
        old = install(slot, *content);
    }
    release(old);
    return {};
}

Status CompressedPageStore::write_bytes(std::uint64_t offset, std::span<const std::byte> data) {
    if (!range_valid(offset, data.size()))
        return invalid("write of " + std::to_string(data.size()) + " bytes at " +
                       std::to_string(offset) + " is beyond the device's " +
                       std::to_string(disksize()) + " bytes");
    std::size_t done = 0;
    while (done < data.size()) {
        const std::uint64_t position = offset + done;
        const std::uint64_t index = position / kPageSize;
        const std::size_t within = position % kPageSize;
        const std::size_t length = std::min(kPageSize - within, data.size() - done);
        auto piece = data.subspan(done, length);
        auto status = length == kPageSize ? write_page(index, piece.first<kPageSize>())
                                          : write_partial(index, within, piece);
        if (!status) return status;
        done += length;
    }
    return {};
}

Status CompressedPageStore::read_bytes(std::uint64_t offset, std::span<std::byte> out) {
    if (!range_valid(offset, out.size()))
        return invalid("read of " + std::to_string(out.size()) + " bytes at " +
                       std::to_string(offset) + " is beyond the device's " +
                       std::to_string(disksize()) + " bytes");
    std::size_t done = 0;
    while (done < out.size()) {
        const std::uint64_t position = offset + done;
        const std::uint64_t index = position / kPageSize;
        const std::size_t within = position % kPageSize;
        const std::size_t length = std::min(kPageSize - within, out.size() - done);
        if (length == kPageSize) {
            auto status = read_page(index, out.subspan(done).first<kPageSize>());
            if (!status) return status;
        } else {
            alignas(64) std::array<std::byte, kPageSize> page;
            auto status = read_page(index, page);
            if (!status) return status;
            std::memcpy(out.data() + done, page.data() + within, length);
        }
        done += length;
    }
    return {};
}

void CompressedPageStore::discard(std::uint64_t first, std::uint64_t count) {
    if (first > page_count() || count > page_count() - first) {
        invalid_io_.fetch_add(1, kRelaxed);
        return;
    }
    for (std::uint64_t index = first; index < first + count; ++index) {
        Slot& slot = slots_[index];
        Content old;
        {
            SlotGuard guard(slot);
            old = install(slot, Content{});
        }
        release(old);
    }
    // As the kernel's zram_bio_discard: every whole page discarded counts, empty or not.
    notify_free_.fetch_add(count, kRelaxed);
}

Status CompressedPageStore::write_pages(std::uint64_t first, std::span<const std::byte> pages,
                                        ThreadPool& pool) {
    if (pages.size() % kPageSize != 0)
        return invalid("batch write of " + std::to_string(pages.size()) +
                       " bytes is not a whole number of pages");
    const std::uint64_t count = pages.size() / kPageSize;
    if (first > page_count() || count > page_count() - first)
        return invalid("batch write of pages [" + std::to_string(first) + ", " +
                       std::to_string(first + count) + ") is beyond the device's " +
                       std::to_string(page_count()) + " pages");
    std::atomic<std::uint64_t> first_failed{count};
    std::mutex error_lock;
    Error error;
    pool.parallel_for(count, [&](std::size_t i) {
        if (i > first_failed.load(kRelaxed)) return; // stop after the first failure
        auto status = write_page(first + i, pages.subspan(i * kPageSize).first<kPageSize>());
        if (!status) {
            std::lock_guard guard(error_lock);
            if (i < first_failed.load(kRelaxed)) {
                first_failed.store(i, kRelaxed);
                error = status.error();
            }
        }
    });
    if (first_failed.load() != count) return error;
    return {};
}

void CompressedPageStore::clear() {
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        Content old;
        {
            SlotGuard guard(slot);
            old = install(slot, Content{});
            slot.access_time = 0;
        }
        release(old);
    }
    allocator_->compact(*this); // nothing is left: gives every segment back
    allocator_->reset_counters();
    for (auto* counter : {&stored_pages_, &compr_data_size_, &same_pages_, &huge_pages_})
        counter->store(0, kRelaxed);
    for (auto* counter : {&huge_pages_since_, &failed_reads_, &failed_writes_, &invalid_io_,
                          &notify_free_, &header_.bd_reads, &header_.bd_writes})
        counter->store(0);
    damaged_pages_.store(0, kRelaxed);
}

MmStat CompressedPageStore::mm_stat() const {
    MmStat s;
    s.orig_data_size = stored_pages_.load(kRelaxed) * kPageSize;
    s.compr_data_size = compr_data_size_.load(kRelaxed);
    s.mem_used_total = allocator_->used_pages() * kPageSize;
    s.mem_limit = allocator_->limit_pages() * kPageSize;
    s.mem_used_max = allocator_->max_used_pages() * kPageSize;
    s.same_pages = same_pages_.load(kRelaxed);
    s.pages_compacted = allocator_->pages_compacted();
    s.huge_pages = huge_pages_.load(kRelaxed);
    s.huge_pages_since = huge_pages_since_.load(kRelaxed);
    return s;
}

ObjectStat CompressedPageStore::object_stat() const {
    // Pages sharing an object, less one per object: the copies dedup saved. (During a pass
    // an object may briefly be held by the pass alone; never report less than none.)
    const std::uint64_t slots = dedup_slots_.load(kRelaxed);
    const std::uint64_t objects = shared_objects_.load(kRelaxed);
    return ObjectStat{grouped_pages_.load(kRelaxed), groups_.load(kRelaxed),
                      slots > objects ? slots - objects : 0, objects, recompressed_pages()};
}

std::uint64_t CompressedPageStore::recompressed_pages() const {
    // Counted when asked, not kept: a slot's codec changes in the write, recompression, group,
    // dedup, compaction and take-over paths alike, and a count kept by each of them would be
    // one more thing for every one of them to get right. One pass over the slot table (16
    // bytes a page), locking only the slots whose object is shared (the lock holds the
    // object's reference while its header is read).
    std::uint64_t count = 0;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        const std::uint32_t kind = SlotTable::kind(slot);
        if (kind & slot_flags::kObject) {
            count += (kind & slot_flags::kCodecMask) != 0 ? 1 : 0;
        } else if (kind & slot_flags::kShared) {
            SlotGuard guard(slot);
            const std::uint32_t now = SlotTable::kind(slot);
            if (!(now & slot_flags::kShared)) continue; // rewritten meanwhile
            auto info = objects_.inspect(static_cast<std::uint32_t>(slot.value));
            count += info && info->codec != 0 ? 1 : 0;
        }
    }
    return count;
}

IoStat CompressedPageStore::io_stat() const {
    return IoStat{failed_reads_.load(kRelaxed), failed_writes_.load(kRelaxed),
                  invalid_io_.load(kRelaxed), notify_free_.load(kRelaxed)};
}

void CompressedPageStore::set_mem_limit(std::uint64_t bytes) {
    allocator_->set_limit_pages(pages_for(bytes));
}

std::uint64_t CompressedPageStore::mark_idle(std::uint64_t age_seconds) {
    const std::uint32_t now = now_seconds();
    std::uint64_t marked = 0;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        SlotGuard guard(slot);
        const std::uint32_t kind = SlotTable::kind(slot);
        if ((kind & (slot_flags::kSame | slot_flags::kObject | slot_flags::kShared |
                     slot_flags::kBacked)) == 0)
            continue;
        if (age_seconds != 0 && now - slot.access_time < age_seconds) continue;
        SlotTable::set_kind(slot, kind | slot_flags::kIdle);
        ++marked;
    }
    return marked;
}

std::span<std::byte> CompressedPageStore::stored_object(std::uint64_t index) {
    if (index >= page_count()) return {};
    Slot& slot = slots_[index];
    SlotGuard guard(slot);
    const std::uint32_t kind = SlotTable::kind(slot);
    if (!(kind & slot_flags::kObject)) return {};
    return {allocator_->address(slot.value), kind & slot_flags::kSizeMask};
}

bool CompressedPageStore::is_idle(std::uint64_t index) {
    if (index >= page_count()) return false;
    Slot& slot = slots_[index];
    SlotGuard guard(slot);
    return (SlotTable::kind(slot) & slot_flags::kIdle) != 0;
}

bool CompressedPageStore::try_move(std::uint64_t owner, Handle from, Handle to,
                                   std::span<const std::byte> source, std::span<std::byte> target) {
    if (owner & SharedObjects::kOwnerBit) return objects_.try_move(owner, from, to, source, target);
    if (owner >= page_count()) return false;
    Slot& slot = slots_[owner];
    if (!SlotTable::try_lock(slot)) return false; // busy: skip, never wait under a class lock
    const bool ours = (SlotTable::kind(slot) & slot_flags::kObject) && slot.value == from;
    if (ours) {
        std::memcpy(target.data(), source.data(), source.size());
        std::atomic_signal_fence(std::memory_order_release); // the copy is complete first
        slot.value = to; // one 8-byte store: a killed process leaves the old or the new place
    }
    SlotTable::unlock(slot);
    return ours;
}

} // namespace trueno::store
