// The automatic writeback policy (the writeback_policy attribute): every interval, pages not
// touched for an age go to the backing device, raw (huge) ones first, within a daily budget of
// bytes written (flash wears), and only while the device's memory is short (using at least a
// share of its memory limit, or, without one, the machine's memory that full).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trueno/page_store.hpp"
#include "trueno/result.hpp"

namespace trueno {

struct WritebackPolicy {
    std::uint64_t age_seconds = 86400;             // pages untouched this long go (default a day)
    std::uint64_t interval_seconds = 3600;         // from the end of one pass to the next
    std::uint64_t budget_bytes = std::uint64_t{1} << 30; // written per day, at most (0: no limit)
    unsigned used_percent = 50; // only while memory is at least this full, 0..100 (0: always)

    bool operator==(const WritebackPolicy&) const = default;
};

// "off", or "on [age=T] [interval=T] [budget=SIZE] [used=P]": times as recompress_policy's
// (seconds, or with s, min, h, d), SIZE bytes with an optional K, M, G or T. nullopt means off.
// EINVAL with the reason for anything else.
Result<std::optional<WritebackPolicy>> parse_writeback_policy(std::string_view text);
// The text parse_writeback_policy reads back to the same settings ("off" for none).
std::string format_writeback_policy(const std::optional<WritebackPolicy>& policy);

// What memory looks like when a pass is due.
struct WritebackMemory {
    std::uint64_t mem_used_total = 0; // the device's
    std::uint64_t mem_limit = 0;      // the device's, 0: none
    std::uint64_t machine_total = 0;  // MemTotal
    std::uint64_t machine_available = 0; // MemAvailable
};

// Whether a due pass runs, and how many 4 KiB blocks it may write (0 with a reason when not).
struct WritebackDecision {
    bool run = false;
    std::uint64_t max_blocks = 0; // 0 with run: no limit
    std::string reason;           // why not
};
// blocks_today: blocks written since the budget's day began.
WritebackDecision decide_writeback(const WritebackPolicy& policy, const WritebackMemory& memory,
                                   std::uint64_t blocks_today);

// One pass on the calling thread: pages older than the policy's age, raw ones first, then the
// rest, at most max_blocks blocks (0: no limit). The reports of both steps summed.
Result<WritebackReport> run_writeback_pass(PageStore& store, const WritebackPolicy& policy,
                                           std::uint64_t max_blocks);

// Room on demand: with the policy on, a backing device and a memory limit, the device makes
// room before its writes are refused at the limit. From kRoomStartPercent of the limit it
// writes back the least recently written pages (whatever their age) until kRoomTargetPercent
// would be left, within the policy's daily budget; writes that reach the limit meanwhile wait
// (PageStore::set_limit_waits) instead of failing. The gap between the two is what a burst
// can write while a pass runs; a pass frees that much at once rather than a page per write.
inline constexpr unsigned kRoomStartPercent = 90;
inline constexpr unsigned kRoomTargetPercent = 80;

struct RoomDecision {
    bool run = false;
    std::uint64_t bytes = 0;      // compressed bytes to write back
    std::uint64_t max_blocks = 0; // what the day's budget still allows (0: no limit)
    std::string reason;           // why not (empty while below kRoomStartPercent)
};
// mem_limit 0 (none) never runs. blocks_today as decide_writeback's.
RoomDecision decide_room(const WritebackPolicy& policy, std::uint64_t mem_used_total,
                         std::uint64_t mem_limit, std::uint64_t blocks_today);

// What a room pass did: the writeback's report, and what compaction then gave back.
struct RoomReport {
    WritebackReport writeback;
    std::uint64_t min_age_seconds = 0; // the coldest pages' age it took (0: any)
    std::uint64_t pages_compacted = 0;
};
// One room pass on the calling thread: writes back the coldest pages holding `bytes`
// (PageStore::coldest_age), at most max_blocks blocks (0: as many as those bytes pack into),
// then compacts, since freed slots give pages back only once no object is left on them.
Result<RoomReport> make_room(PageStore& store, std::uint64_t bytes, std::uint64_t max_blocks);

} // namespace trueno
