// Writeback: single-page objects go to a backing device, packed several to a 4 KiB block
// (backing_blocks.hpp), and their memory is freed. The slot is switched to the object's place
// on the device in one 16-byte store after its block is written, and only if the page did not
// change meanwhile, so a process killed at any point leaves each slot pointing at RAM or at a
// block that holds its bytes.
#include "compressed_page_store.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <spdlog/spdlog.h>

namespace trueno::store {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
// Objects snapshotted before their blocks are written: up to this many pages' bytes in flight.
constexpr std::size_t kBatchObjects = 256;

bool writeback_type_matches(WritebackOptions::Type type, std::uint32_t kind) {
    switch (type) {
    case WritebackOptions::Type::any:
        return true;
    case WritebackOptions::Type::idle:
        return kind & slot_flags::kIdle;
    case WritebackOptions::Type::huge:
        return kind & slot_flags::kHuge;
    case WritebackOptions::Type::huge_idle:
        return (kind & slot_flags::kHuge) && (kind & slot_flags::kIdle);
    case WritebackOptions::Type::incompressible:
        return kind & slot_flags::kIncompressible;
    }
    return false;
}

} // namespace

Status CompressedPageStore::set_backing_device(const std::string& path) {
    std::lock_guard pass(pass_mutex_); // no writeback pass meanwhile
    std::lock_guard settings(settings_mutex_);
    if (backed_pages_.load() != 0) {
        return make_error(EBUSY, std::to_string(backed_pages_.load()) +
                                     " page(s) are written back to " + backing()->path +
                                     "; the backing device changes only while none is");
    }
    std::unique_ptr<BackingDevice> device;
    if (!path.empty()) {
        auto opened = BackingDevice::open(path);
        if (!opened)
            return opened.error();
        device = std::move(*opened);
    }
    // Header first (a process killed here leaves a path no slot refers to yet), then publish.
    if (device) {
        set_record_text(header_.backing_path, path);
        header_.backing_identity = device->identity();
        header_.backing_blocks = device->blocks();
        std::atomic_signal_fence(std::memory_order_release);
        // From now on the slots may hold kBacked: older daemons must refuse the store.
        header_.header_bytes = sizeof(ArenaHeader);
        header_.layout_version = kLayoutVersion;
    } else {
        header_.backing_path.fill('\0');
        header_.backing_identity = 0;
        header_.backing_blocks = 0;
    }
    if (Backing* old = backing())
        old->device.reset(); // gives up the exclusive claim
    if (device) {
        const std::uint64_t blocks = device->blocks();
        backings_.push_back(
            std::unique_ptr<Backing>(new Backing{path, std::move(device), BackingBlocks(blocks)}));
        backing_.store(backings_.back().get(), std::memory_order_release);
        spdlog::info("backing device {} set ({} MiB)", path, blocks * kBackingBlockBytes >> 20);
    } else {
        backing_.store(nullptr, std::memory_order_release);
    }
    return {};
}

std::string CompressedPageStore::backing_device() const {
    const Backing* b = backing();
    return b ? b->path : std::string();
}

BdStat CompressedPageStore::bd_stat() const {
    return BdStat{backed_pages_.load(kRelaxed), header_.bd_reads.load(), header_.bd_writes.load()};
}

void CompressedPageStore::set_writeback_limit_enable(bool on) {
    std::atomic_ref<std::uint32_t>(header_.writeback_limit_enable).store(on ? 1 : 0, kRelaxed);
}

bool CompressedPageStore::writeback_limit_enable() const {
    return std::atomic_ref<std::uint32_t>(
               const_cast<std::uint32_t&>(header_.writeback_limit_enable))
               .load(kRelaxed) != 0;
}

Status CompressedPageStore::save_writeback_policy(std::string_view text) {
    if (text.size() >= header_.writeback_policy_text[0].size())
        return make_error(EINVAL, "writeback_policy text longer than " +
                                      std::to_string(header_.writeback_policy_text[0].size() - 1) +
                                      " bytes");
    std::lock_guard settings(settings_mutex_);
    // The spare copy first, then switch: a process killed meanwhile leaves the old one.
    const std::uint32_t next = 1 - (header_.writeback_policy_current & 1);
    set_record_text(header_.writeback_policy_text[next], text);
    std::atomic_signal_fence(std::memory_order_release);
    std::atomic_ref<std::uint32_t>(header_.writeback_policy_current)
        .store(next, std::memory_order_release);
    return {};
}

std::string CompressedPageStore::saved_writeback_policy() const {
    return record_text(header_.writeback_policy_text[header_.writeback_policy_current & 1]);
}

bool CompressedPageStore::reads_backing_device(std::uint64_t offset, std::uint64_t length) const {
    if (length == 0 || backed_pages_.load(kRelaxed) == 0 || !range_valid(offset, length))
        return false;
    const std::uint64_t last = (offset + length - 1) / kPageSize;
    for (std::uint64_t index = offset / kPageSize; index <= last; ++index)
        if (SlotTable::flags(const_cast<Slot&>(slots_[index])).load(kRelaxed) & slot_flags::kBacked)
            return true;
    return false;
}

std::uint64_t CompressedPageStore::coldest_age(std::uint64_t bytes) const {
    // Two looks at the slot table without locks (an estimate: slots change meanwhile): the
    // oldest age, then the bytes in each of kBuckets equal spans of age up to it.
    constexpr std::uint64_t kBuckets = 256;
    const std::uint32_t now = now_seconds();
    const auto candidate = [](std::uint32_t kind) {
        return (kind & slot_flags::kObject) != 0 && (kind & slot_flags::kBacked) == 0;
    };
    const auto age_of = [now](Slot& slot) -> std::uint64_t {
        const std::uint32_t at = std::atomic_ref<std::uint32_t>(slot.access_time).load(kRelaxed);
        return now > at ? now - at : 0;
    };
    std::uint64_t oldest = 0;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        if (candidate(SlotTable::flags(slot).load(kRelaxed)))
            oldest = std::max(oldest, age_of(slot));
    }
    std::array<std::uint64_t, kBuckets> held{};
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        const std::uint32_t kind = SlotTable::flags(slot).load(kRelaxed);
        if (candidate(kind))
            held[std::min(age_of(slot), oldest) * kBuckets / (oldest + 1)] +=
                kind & slot_flags::kSizeMask;
    }
    std::uint64_t sum = 0;
    for (std::uint64_t bucket = kBuckets; bucket-- > 0;) {
        sum += held[bucket];
        if (sum >= bytes) // the least age in this bucket
            return (bucket * (oldest + 1) + kBuckets - 1) / kBuckets;
    }
    return 0;
}

std::uint64_t CompressedPageStore::backing_used_blocks() const {
    const Backing* b = backing();
    return b ? b->blocks.used_blocks() : 0;
}

std::optional<BackingLocation> CompressedPageStore::backing_place(std::uint64_t index) {
    if (index >= page_count())
        return std::nullopt;
    Slot& slot = slots_[index];
    SlotGuard guard(slot);
    const std::uint32_t kind = SlotTable::kind(slot);
    if (!(kind & slot_flags::kBacked))
        return std::nullopt;
    return backing_location(slot.value, kind & slot_flags::kSizeMask);
}

Status CompressedPageStore::decode_backed(std::uint64_t index, std::uint32_t kind,
                                          std::uint64_t value, MutablePageView out) {
    Backing* b = backing();
    const BackingLocation at = backing_location(value, kind & slot_flags::kSizeMask);
    if (b == nullptr || !b->device)
        return make_error(EIO, "page " + std::to_string(index) + " was written back to " +
                                   (b ? b->path : std::string("a backing device")) +
                                   ", which is not open");
    // One block, or two for an object that spans them; O_DIRECT wants the buffer aligned.
    alignas(4096) std::array<std::byte, 2 * kBackingBlockBytes> blocks;
    const auto wanted = std::span<std::byte>(blocks).first(backing_span(at) * kBackingBlockBytes);
    if (auto read = b->device->read_block(at.block, wanted); !read)
        return make_error(EIO, "page " + std::to_string(index) + ": " + read.error().message);
    header_.bd_reads.add(1);
    const auto object = std::span<const std::byte>(blocks).subspan(at.offset, at.size);
    if (backing_check_of(object, index) != backing_check(value))
        return make_error(EIO, "page " + std::to_string(index) + ": block " +
                                   std::to_string(at.block) + " of " + b->path +
                                   " does not hold what was written there (check mismatch)");
    return decode_object(index, kind, object, out);
}

Result<WritebackReport> CompressedPageStore::writeback(const WritebackOptions& options) {
    std::lock_guard pass(pass_mutex_);
    Backing* b = backing();
    if (b == nullptr)
        return make_error(ENODEV, "no backing device is set (backing_dev)");
    if (!b->device)
        return make_error(EIO, "the backing device " + b->path + " is not open");
    if (writeback_limit_enable() && header_.writeback_limit.load() == 0)
        return make_error(EIO, "writeback_limit is spent (0 blocks left)");
    if (options.first_page > options.last_page || options.first_page >= page_count())
        return make_error(EINVAL, "page range [" + std::to_string(options.first_page) + ", " +
                                      std::to_string(options.last_page) +
                                      "] is outside the device's " + std::to_string(page_count()) +
                                      " pages");
    const std::uint64_t last = std::min(options.last_page, page_count() - 1);

    WritebackReport report;
    const std::uint32_t now = now_seconds();
    std::vector<Snapshot> batch(kBatchObjects);
    std::size_t count = 0;
    for (std::uint64_t index = options.first_page; index <= last; ++index) {
        Slot& slot = slots_[index];
        // A look without the lock first: most slots do not match.
        const std::uint32_t seen = SlotTable::flags(slot).load(kRelaxed);
        if (!(seen & slot_flags::kObject) || !writeback_type_matches(options.type, seen))
            continue;
        if (!snapshot(index, batch[count]) ||
            !writeback_type_matches(options.type, batch[count].kind))
            continue;
        if (options.min_age_seconds != 0 &&
            now - batch[count].access_time < options.min_age_seconds)
            continue;
        if (++count < kBatchObjects)
            continue;
        auto status = write_back_batch(*b, batch, count, report, options.max_blocks);
        count = 0;
        if (!status)
            return status.error();
        if (report.limit_reached || report.device_full || report.budget_reached)
            break;
    }
    if (count != 0)
        if (auto status = write_back_batch(*b, batch, count, report, options.max_blocks); !status)
            return status.error();
    return report;
}

std::size_t CompressedPageStore::limit_allows(std::size_t wanted, bool& reached) const {
    if (!writeback_limit_enable())
        return wanted;
    const std::uint64_t left = header_.writeback_limit.load();
    if (left >= wanted)
        return wanted;
    reached = true;
    return static_cast<std::size_t>(left);
}

Status
CompressedPageStore::write_planned_blocks(Backing& backing, const BackingPlan& plan,
                                          std::span<const std::span<const std::byte>> objects,
                                          std::size_t allowed, std::vector<bool>& written) {
    written.assign(plan.blocks.size(), false);
    alignas(4096) std::array<std::byte, kBackingBlockBytes> block;
    for (std::size_t k = 0; k < allowed && k < plan.blocks.size(); ++k) {
        block.fill(std::byte{0});
        for (std::size_t i = 0; i < objects.size(); ++i) {
            if (!plan.placed[i])
                continue;
            const auto parts = backing_parts(*plan.placed[i]);
            if (parts[0].block == plan.blocks[k])
                std::memcpy(block.data() + parts[0].offset, objects[i].data(), parts[0].bytes);
            else if (parts[1].bytes != 0 && parts[1].block == plan.blocks[k])
                std::memcpy(block.data(), objects[i].data() + parts[0].bytes, parts[1].bytes);
        }
        if (auto status = backing.device->write_block(plan.blocks[k], block); !status) {
            spdlog::error("writeback: {}", status.error().message);
            return make_error(EIO, status.error().message);
        }
        written[k] = true;
        header_.bd_writes.add(1);
        if (writeback_limit_enable()) {
            // Another caller may have lowered it meanwhile: never below zero.
            std::uint64_t left = header_.writeback_limit.load();
            header_.writeback_limit.store(left != 0 ? left - 1 : 0);
        }
    }
    return {};
}

Status CompressedPageStore::write_back_batch(Backing& backing, std::vector<Snapshot>& batch,
                                             std::size_t count, WritebackReport& report,
                                             std::uint64_t max_blocks) {
    std::vector<std::uint32_t> sizes(count);
    for (std::size_t i = 0; i < count; ++i)
        sizes[i] = static_cast<std::uint32_t>(batch[i].size);
    BackingPlan plan = backing.blocks.plan(sizes);
    if (std::count(plan.placed.begin(), plan.placed.end(), std::nullopt) != 0)
        report.device_full = true;

    // The limit counts blocks written (the kernel's counts pages; a block is at most one page).
    std::size_t allowed = plan.blocks.size();
    if (max_blocks != 0 && report.blocks + allowed >= max_blocks) {
        allowed =
            max_blocks > report.blocks ? static_cast<std::size_t>(max_blocks - report.blocks) : 0;
        report.budget_reached = true;
    }
    allowed = limit_allows(allowed, report.limit_reached);
    std::vector<std::span<const std::byte>> objects(count);
    for (std::size_t i = 0; i < count; ++i)
        objects[i] = std::span<const std::byte>(batch[i].bytes.data(), batch[i].size);
    std::vector<bool> written;
    const Status failure = write_planned_blocks(backing, plan, objects, allowed, written);
    report.blocks += static_cast<std::uint64_t>(std::count(written.begin(), written.end(), true));

    for (std::size_t i = 0; i < count; ++i) {
        // Switched only if every block it lies in was written.
        if (!plan.placed[i] || !placed_and_written(plan, written, *plan.placed[i]))
            continue;
        const Snapshot& snap = batch[i];
        Slot& slot = slots_[snap.index];
        bool switched = false;
        {
            SlotGuard guard(slot);
            if (unchanged(slot, snap)) {
                // The size, codec and raw (kHuge) bits say how it decodes; idle and the
                // recompression verdict go, as the kernel clears them when it frees the object.
                const std::uint32_t kept = snap.kind & (slot_flags::kSizeMask |
                                                        slot_flags::kCodecMask | slot_flags::kHuge);
                backing.blocks.commit(*plan.placed[i]);
                // The check is of the bytes written to the block (the snapshot's, which
                // unchanged() just found still to be the page's).
                const std::uint16_t check = backing_check_of(
                    std::span<const std::byte>(snap.bytes.data(), snap.size), snap.index);
                SlotTable::set_content(slot, kept | slot_flags::kBacked,
                                       backing_value(*plan.placed[i], check), slot.access_time);
                switched = true;
                backed_pages_.fetch_add(1, kRelaxed);
                compr_data_size_.fetch_sub(snap.size, kRelaxed);
                if (snap.kind & slot_flags::kHuge)
                    huge_pages_.fetch_sub(1, kRelaxed);
            }
        }
        if (switched) {
            allocator_->free(snap.value);
            ++report.pages;
            report.bytes += snap.size;
        } else {
            ++report.raced;
        }
    }
    backing.blocks.finish(plan);
    return failure;
}

void CompressedPageStore::reopen_backing() {
    const std::string path = record_text(header_.backing_path);
    if (path.empty())
        return;
    auto opened = BackingDevice::open(path);
    std::unique_ptr<BackingDevice> device;
    if (!opened) {
        spdlog::error("store: the backing device {} cannot be opened ({}); pages written back to "
                      "it read as errors",
                      path, opened.error().message);
    } else if ((*opened)->identity() != header_.backing_identity ||
               (*opened)->blocks() < header_.backing_blocks) {
        spdlog::error("store: {} is not the backing device the pages were written to (another "
                      "device or smaller); "
                      "pages written back read as errors",
                      path);
    } else {
        device = std::move(*opened);
    }
    backings_.push_back(std::unique_ptr<Backing>(
        new Backing{path, std::move(device), BackingBlocks(header_.backing_blocks)}));
    backing_.store(backings_.back().get(), std::memory_order_release);
}

} // namespace trueno::store
