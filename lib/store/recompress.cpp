// Idle/huge page recompression with a secondary codec, and dictionary training on the
// device's own pages. The expensive work (decompress, recompress) runs without the page lock;
// the lock is taken only to copy the object out and to swap the handle, and the swap happens
// only if the page still holds exactly the bytes that were recompressed.
#include <pthread.h>
#include <sched.h>

#include <array>
#include <cstring>

#include "compressed_page_store.hpp"
#include "dictionary_trainer.hpp"
#include "recompress_filter.hpp"
#include "thread_cpu_time.hpp"

namespace trueno::store {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Runs the calling thread as SCHED_IDLE for a scope (only when asked), restoring its policy.
class IdleScheduling {
public:
    explicit IdleScheduling(bool wanted) {
        if (!wanted) return;
        if (::pthread_getschedparam(::pthread_self(), &policy_, &param_) != 0) return;
        sched_param idle{};
        active_ = ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle) == 0;
    }
    ~IdleScheduling() {
        if (active_) ::pthread_setschedparam(::pthread_self(), policy_, &param_);
    }
    IdleScheduling(const IdleScheduling&) = delete;
    IdleScheduling& operator=(const IdleScheduling&) = delete;

private:
    bool active_ = false;
    int policy_ = SCHED_OTHER;
    sched_param param_{};
};

} // namespace

Status CompressedPageStore::set_recomp_algorithm(unsigned priority, const std::string& algorithm,
                                                 const CodecParams& params) {
    auto id = add_generation(priority, algorithm, params);
    if (!id) return id.error();
    return {};
}

Result<std::size_t> CompressedPageStore::train_recomp_dictionary(unsigned priority,
                                                                 std::size_t dict_bytes,
                                                                 std::uint64_t sample_pages) {
    const unsigned current = recomp_.current(priority);
    if (current == 0)
        return make_error(EINVAL, "no recompression algorithm is set for priority " +
                                      std::to_string(priority));
    const auto& generation = recomp_.at(current);
    if (!find_codec(generation.algorithm)->has_dictionary)
        return make_error(EINVAL, "recompression algorithm " + generation.algorithm +
                                      " takes no dictionary");
    if (sample_pages == 0) return make_error(EINVAL, "a dictionary needs sample pages");

    // Pages spread evenly over the device, same-filled and empty ones skipped; reading them
    // for training must not make them look recently used.
    const std::uint64_t stride = std::max<std::uint64_t>(1, page_count() / sample_pages);
    std::vector<std::byte> samples;
    samples.reserve(std::min(sample_pages, page_count()) * kPageSize);
    alignas(64) std::array<std::byte, kPageSize> page;
    for (std::uint64_t index = 0; index < page_count() && samples.size() < sample_pages * kPageSize;
         index += stride) {
        Slot& slot = slots_[index];
        Status status;
        {
            SlotGuard guard(slot);
            if (!(SlotTable::kind(slot) & (slot_flags::kObject | slot_flags::kShared))) continue;
            status = decode(index, slot, page);
        }
        if (!status) continue; // a damaged page is reported by its reader, not here
        samples.insert(samples.end(), page.begin(), page.end());
    }
    auto dictionary = train_dictionary(samples, dict_bytes);
    if (!dictionary) return dictionary.error();
    const std::size_t size = dictionary->size();
    CodecParams params = generation.params;
    params.dict_path = "(trained on " + std::to_string(samples.size() / kPageSize) + " pages)";
    params.dictionary = std::make_shared<const std::vector<std::byte>>(std::move(dictionary.value()));
    auto id = add_generation(priority, generation.algorithm, params);
    if (!id) return id.error();
    return size;
}

Result<RecompressReport> CompressedPageStore::recompress(const RecompressOptions& options) {
    const unsigned codec = recomp_.current(options.priority);
    if (codec == 0)
        return make_error(EINVAL, "no recompression algorithm is set for priority " +
                                      std::to_string(options.priority));
    if (options.threshold > kPageSize)
        return make_error(EINVAL, "threshold " + std::to_string(options.threshold) +
                                      " is larger than a page");
    if (options.group_pages == 0 || options.group_pages > kMaxGroupPages)
        return make_error(EINVAL, "group_pages must be 1.." + std::to_string(kMaxGroupPages) +
                                      ", not " + std::to_string(options.group_pages));
    // Other codecs are written for single pages; zstd frames of any length are safe.
    if (options.group_pages > 1 && recomp_.at(codec).algorithm != "zstd")
        return make_error(EINVAL, "multi-page objects need zstd as the recompression algorithm, not " +
                                      recomp_.at(codec).algorithm);
    std::lock_guard pass(pass_mutex_); // passes would fight over the same pages
    IdleScheduling scheduling(options.idle_scheduling);
    RecompressReport report;
    const double cpu_start = thread_cpu_seconds();
    split_sparse_groups(report);
    // Duplicates first: a shared page is then recompressed once, not once per copy.
    if (options.dedup) dedup_pass(options, codec, report);
    if (options.group_pages > 1) {
        group_pass(options, codec, report);
    } else {
        for (std::uint64_t index = 0; index < page_count(); ++index) {
            if (options.max_pages != 0 && report.tried >= options.max_pages) break;
            recompress_page(index, options, codec, report);
        }
    }
    report.cpu_seconds = thread_cpu_seconds() - cpu_start;
    return report;
}

void CompressedPageStore::recompress_page(std::uint64_t index, const RecompressOptions& options,
                                          unsigned codec, RecompressReport& report) {
    Slot& slot = slots_[index];
    alignas(64) std::array<std::byte, kPageSize> object;
    std::uint32_t kind = 0;
    Handle handle = 0;
    std::size_t size = 0;
    {
        SlotGuard guard(slot);
        kind = SlotTable::kind(slot);
        if (!(kind & slot_flags::kObject) || (kind & slot_flags::kIncompressible)) return;
        if (!type_matches(options.type, kind)) return;
        // As the kernel: a page already recompressed at this priority or above is done.
        const unsigned id = (kind & slot_flags::kCodecMask) >> slot_flags::kCodecShift;
        if (id != 0 && recomp_.at(id).priority >= options.priority) return;
        size = kind & slot_flags::kSizeMask;
        if (options.threshold != 0 && size < options.threshold) return;
        handle = slot.value;
        std::memcpy(object.data(), allocator_->address(handle), size);
    }
    ++report.tried;
    const std::span<const std::byte> old_object(object.data(), size);

    alignas(64) std::array<std::byte, kPageSize> page;
    if (!decode_object(index, kind, old_object, page)) return; // its reader reports EIO

    // Worth keeping only in a smaller size class (as the kernel): an output that reaches the
    // old class (or the huge size) comes back as 0 from the codec or fails the check below.
    auto stream = recomp_.at(codec).streams->acquire();
    // No memory for the codec's compression state: the page stays as it is, not marked
    // incompressible, for a later pass.
    if (!stream.codec().prepare_compression())
        return;
    const std::size_t limit = std::min(size, kHugeSize) - 1;
    const std::size_t new_size =
        stream.codec().compress(page, std::span<std::byte>(stream.buffer()).first(limit));
    const bool smaller = new_size != 0 && SizeClassAllocator::class_for_size(new_size) <
                                              SizeClassAllocator::class_for_size(size);
    // The page must still hold the very bytes we recompressed (kind without the idle bit,
    // handle, contents): a rewrite, discard or compaction move in between cancels the swap.
    auto unchanged = [&] {
        constexpr std::uint32_t kIgnored = slot_flags::kIdle;
        return (SlotTable::kind(slot) & ~kIgnored) == (kind & ~kIgnored) && slot.value == handle &&
               std::memcmp(allocator_->address(handle), object.data(), size) == 0;
    };
    if (!smaller) {
        SlotGuard guard(slot);
        if (unchanged()) SlotTable::set_kind(slot, SlotTable::kind(slot) | slot_flags::kIncompressible);
        return;
    }
    auto fresh = allocator_->allocate(new_size, index);
    if (!fresh) return; // memory limit: keep the old object
    std::memcpy(allocator_->address(*fresh), stream.buffer().data(), new_size);

    bool swapped = false;
    {
        SlotGuard guard(slot);
        if (unchanged()) {
            const std::uint32_t keep = SlotTable::kind(slot) & slot_flags::kIdle;
            SlotTable::set_content(slot,
                                   keep | slot_flags::kObject | (codec << slot_flags::kCodecShift) |
                                       static_cast<std::uint32_t>(new_size),
                                   *fresh, slot.access_time);
            swapped = true;
            compr_data_size_.fetch_sub(size, kRelaxed);
            compr_data_size_.fetch_add(new_size, kRelaxed);
            if (kind & slot_flags::kHuge) huge_pages_.fetch_sub(1, kRelaxed);
        }
    }
    if (swapped) {
        allocator_->free(handle);
        ++report.kept;
        report.bytes_before += size;
        report.bytes_after += new_size;
    } else {
        allocator_->free(*fresh);
        ++report.raced;
    }
}

std::vector<RecompAlgorithm> CompressedPageStore::recomp_algorithms() const {
    std::vector<RecompAlgorithm> algorithms;
    for (unsigned priority = 1; priority <= kMaxRecompPriority; ++priority) {
        const unsigned id = recomp_.current(priority);
        if (id == 0) continue;
        const auto& generation = recomp_.at(id);
        algorithms.push_back({priority, generation.algorithm, generation.params});
    }
    return algorithms;
}

unsigned CompressedPageStore::codec_id(std::uint64_t index) {
    if (index >= page_count()) return 0;
    Slot& slot = slots_[index];
    SlotGuard guard(slot);
    return (SlotTable::kind(slot) & slot_flags::kCodecMask) >> slot_flags::kCodecShift;
}

} // namespace trueno::store
