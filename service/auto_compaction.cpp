#include "auto_compaction.hpp"

namespace trueno::service {

bool AutoCompaction::due(const CompactionSample& sample) {
    if (!misses_seen_ || sample.reserve_misses != *misses_seen_) {
        misses_seen_ = sample.reserve_misses;
        misses_changed_ = sample.at;
        return false;
    }
    if (sample.mem_used <= sample.compr_data) return false;
    const std::uint64_t slack = sample.mem_used - sample.compr_data;
    if (slack < kMinSlackBytes || static_cast<double>(slack) < kSlackShare * static_cast<double>(sample.mem_used))
        return false;
    if (sample.at - misses_changed_ < kQuiet) return false;
    if (last_due_ && sample.at - *last_due_ < kMinInterval) return false;
    last_due_ = sample.at;
    return true;
}

} // namespace trueno::service
