// When a device compacts its store on its own. Kernel zram's zsmalloc compacts from a shrinker
// when the machine runs short of memory; a swap storm leaves trueno-zram's store with pages
// part-filled by objects that are gone (freed, moved back from a larger class), and nothing
// gave them back unless someone wrote "compact". This decides, from what the store reports
// every few seconds, when the device's worker should compact it: once the pressure is over.
//
// Contract of due(): true when, and only when, all of these hold for the sample:
//   - the memory beyond the data, mem_used - compr_data, is at least kMinSlackBytes and at
//     least kSlackShare of mem_used (below that there is little to give back: each size class
//     keeps one part-filled page at its top whatever compaction does);
//   - reserve_misses has not grown for kQuiet (writes have stopped finding the populated
//     reserve dry: the pressure is over, and a compaction's moves will not compete with them);
//   - the last time due() said true is kMinInterval ago or more (a compaction that cannot get
//     below the thresholds is not repeated in a loop).
// The first sample only sets the baseline of reserve_misses (it counts as a change).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace trueno::service {

struct CompactionSample {
    std::uint64_t mem_used = 0;       // mm_stat mem_used_total
    std::uint64_t compr_data = 0;     // mm_stat compr_data_size
    std::uint64_t reserve_misses = 0; // debug_stat reserve_misses (never decreases)
    std::chrono::steady_clock::time_point at;
};

class AutoCompaction {
public:
    static constexpr std::uint64_t kMinSlackBytes = std::uint64_t{1} << 20;
    static constexpr double kSlackShare = 0.05; // the "within 5 %", zsmalloc's usual
    static constexpr std::chrono::seconds kQuiet{10};
    static constexpr std::chrono::seconds kMinInterval{60};

    bool due(const CompactionSample& sample);

private:
    std::optional<std::uint64_t> misses_seen_;
    std::chrono::steady_clock::time_point misses_changed_{};
    std::optional<std::chrono::steady_clock::time_point> last_due_;
};

} // namespace trueno::service
