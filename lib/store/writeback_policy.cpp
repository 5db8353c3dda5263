#include "trueno/writeback_policy.hpp"

#include "policy_text.hpp"

#include <cctype>
#include <limits>
#include <vector>

namespace trueno {

namespace {

// Bytes, bare or with K, M, G, T (powers of 1024, either case).
Result<std::uint64_t> parse_bytes(std::string_view key, std::string_view text) {
    std::uint64_t scale = 1;
    if (!text.empty()) {
        switch (std::toupper(static_cast<unsigned char>(text.back()))) {
        case 'K': scale = std::uint64_t{1} << 10; break;
        case 'M': scale = std::uint64_t{1} << 20; break;
        case 'G': scale = std::uint64_t{1} << 30; break;
        case 'T': scale = std::uint64_t{1} << 40; break;
        default: break;
        }
        if (scale != 1) text.remove_suffix(1);
    }
    auto n = store::parse_count(key, text);
    if (!n) return make_error(EINVAL, std::string(key) + "=" + std::string(text) + " is not a size (bytes, or with K, M, G, T)");
    if (*n > std::numeric_limits<std::uint64_t>::max() / scale)
        return make_error(EINVAL, std::string(key) + "=" + std::string(text) + " is too large");
    return *n * scale;
}

// The blocks the day's budget still allows (max_blocks, 0: no budget); false with the reason
// when it is spent.
bool budget_left(const WritebackPolicy& policy, std::uint64_t blocks_today,
                 std::uint64_t& max_blocks, std::string& reason) {
    if (policy.budget_bytes == 0)
        return true;
    const std::uint64_t budget_blocks = policy.budget_bytes / 4096;
    if (blocks_today >= budget_blocks) {
        reason =
            "the day's budget (" + std::to_string(policy.budget_bytes >> 20) + " MiB) is spent";
        return false;
    }
    max_blocks = budget_blocks - blocks_today;
    return true;
}

} // namespace

Result<std::optional<WritebackPolicy>> parse_writeback_policy(std::string_view text) {
    const std::vector<std::string_view> words = store::split_words(text);
    if (words.empty()) return make_error(EINVAL, "writeback_policy needs \"off\" or \"on\" [age=T interval=T budget=SIZE used=P]");
    if (words.front() == "off") {
        if (words.size() > 1) return make_error(EINVAL, "\"off\" takes no parameters");
        return std::optional<WritebackPolicy>{};
    }
    if (words.front() != "on")
        return make_error(EINVAL, "writeback_policy starts with \"on\" or \"off\", not '" + std::string(words.front()) + "'");
    WritebackPolicy policy;
    for (std::size_t i = 1; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        if (eq == std::string_view::npos || eq + 1 == words[i].size())
            return make_error(EINVAL, "'" + std::string(words[i]) + "' is not key=value");
        const auto key = words[i].substr(0, eq);
        const auto value = words[i].substr(eq + 1);
        if (key == "age" || key == "interval") {
            auto s = store::parse_seconds(key, value);
            if (!s) return s.error();
            if (key == "interval" && *s == 0) return make_error(EINVAL, "interval must be at least 1 second");
            (key == "age" ? policy.age_seconds : policy.interval_seconds) = *s;
        } else if (key == "budget") {
            auto b = parse_bytes(key, value);
            if (!b) return b.error();
            policy.budget_bytes = *b;
        } else if (key == "used") {
            auto n = store::parse_count(key, value);
            if (!n) return n.error();
            if (*n > 100) return make_error(EINVAL, "used is a percentage, 0..100");
            policy.used_percent = static_cast<unsigned>(*n);
        } else {
            return make_error(EINVAL, "unknown writeback_policy parameter '" + std::string(key) +
                                          "' (known: age, interval, budget, used)");
        }
    }
    return std::optional<WritebackPolicy>(policy);
}

std::string format_writeback_policy(const std::optional<WritebackPolicy>& policy) {
    if (!policy) return "off";
    return "on age=" + std::to_string(policy->age_seconds) + " interval=" + std::to_string(policy->interval_seconds) +
           " budget=" + std::to_string(policy->budget_bytes) + " used=" + std::to_string(policy->used_percent);
}

WritebackDecision decide_writeback(const WritebackPolicy& policy, const WritebackMemory& memory,
                                   std::uint64_t blocks_today) {
    WritebackDecision d;
    std::uint64_t max_blocks = 0;
    if (!budget_left(policy, blocks_today, max_blocks, d.reason))
        return d;
    // Memory is short when the device uses at least used% of its limit; without a limit, when
    // the machine's memory is at least used% in use.
    const auto full_enough = [&](std::uint64_t used, std::uint64_t total) {
        return total != 0 && static_cast<unsigned __int128>(used) * 100 >=
                                 static_cast<unsigned __int128>(total) * policy.used_percent;
    };
    if (policy.used_percent != 0) {
        if (memory.mem_limit != 0) {
            if (!full_enough(memory.mem_used_total, memory.mem_limit)) {
                d.reason = "the device uses less than " + std::to_string(policy.used_percent) + "% of its mem_limit";
                return d;
            }
        } else if (memory.machine_total != 0) {
            const std::uint64_t in_use =
                memory.machine_total > memory.machine_available ? memory.machine_total - memory.machine_available : 0;
            if (!full_enough(in_use, memory.machine_total)) {
                d.reason = "less than " + std::to_string(policy.used_percent) + "% of the machine's memory is in use";
                return d;
            }
        }
    }
    d.run = true;
    d.max_blocks = max_blocks;
    return d;
}

RoomDecision decide_room(const WritebackPolicy& policy, std::uint64_t mem_used_total,
                         std::uint64_t mem_limit, std::uint64_t blocks_today) {
    RoomDecision d;
    const auto percent_of_limit = [mem_limit](unsigned percent) {
        return static_cast<std::uint64_t>(static_cast<unsigned __int128>(mem_limit) * percent /
                                          100);
    };
    if (mem_limit == 0) {
        d.reason = "the device has no mem_limit";
        return d;
    }
    if (mem_used_total < percent_of_limit(kRoomStartPercent))
        return d;
    if (!budget_left(policy, blocks_today, d.max_blocks, d.reason))
        return d;
    d.run = true;
    d.bytes = mem_used_total - percent_of_limit(kRoomTargetPercent);
    return d;
}

Result<RoomReport> make_room(PageStore& store, std::uint64_t bytes, std::uint64_t max_blocks) {
    RoomReport room;
    WritebackOptions options;
    options.type = WritebackOptions::Type::any;
    room.min_age_seconds = store.coldest_age(bytes);
    options.min_age_seconds = room.min_age_seconds;
    // Packed, the objects take about their bytes in blocks; an eighth more for the ends of
    // blocks no object fits, and for pages written meanwhile at the same age.
    std::uint64_t blocks = (bytes + 4095) / 4096;
    blocks += blocks / 8 + 1;
    options.max_blocks = max_blocks == 0 ? blocks : std::min(blocks, max_blocks);
    auto report = store.writeback(options);
    if (!report)
        return report.error();
    room.writeback = *report;
    if (report->pages != 0)
        room.pages_compacted = store.compact();
    return room;
}

Result<WritebackReport> run_writeback_pass(PageStore& store, const WritebackPolicy& policy, std::uint64_t max_blocks) {
    WritebackReport total;
    // Raw (huge) pages first: each holds a whole page of RAM for one page of data.
    for (auto type : {WritebackOptions::Type::huge, WritebackOptions::Type::any}) {
        WritebackOptions options;
        options.type = type;
        options.min_age_seconds = policy.age_seconds;
        options.max_blocks = max_blocks == 0 ? 0 : max_blocks - total.blocks;
        auto report = store.writeback(options);
        if (!report) return report.error();
        total.pages += report->pages;
        total.blocks += report->blocks;
        total.bytes += report->bytes;
        total.raced += report->raced;
        total.limit_reached = total.limit_reached || report->limit_reached;
        total.device_full = total.device_full || report->device_full;
        total.budget_reached = total.budget_reached || report->budget_reached;
        if (total.limit_reached || total.device_full || total.budget_reached) break;
    }
    return total;
}

} // namespace trueno
