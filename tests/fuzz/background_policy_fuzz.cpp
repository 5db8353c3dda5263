// Fuzz target: the recompress_policy text (parse_background_policy in
// lib/include/trueno/background_recompressor.hpp), which clients write to the attribute and the
// daemon reads back from a store it takes over. Whatever it accepts must be within the
// documented bounds, and format_background_policy must write it as text that parses to the
// same settings.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "trueno/background_recompressor.hpp"

using trueno::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto policy = trueno::parse_background_policy(text);
    if (!policy) {
        check(policy.error().code == EINVAL, "a refused policy is EINVAL");
        return 0;
    }
    const std::string written = trueno::format_background_policy(*policy);
    if (!*policy) {
        check(written == "off", "no policy is written as off");
    } else {
        const auto& p = **policy;
        check(p.interval_seconds >= 1, "interval is at least 1 s");
        check(p.cpu_percent >= 1 && p.cpu_percent <= 100, "cpu is 1..100");
        check(p.priority >= 1 && p.priority <= trueno::kMaxRecompPriority,
              "priority is a recompression priority");
        check(p.type == trueno::RecompressOptions::Type::idle ||
                  p.type == trueno::RecompressOptions::Type::huge_idle,
              "type is idle or huge_idle");
    }
    const auto again = trueno::parse_background_policy(written);
    check(again.ok(), "the written policy parses");
    check(*again == *policy, "the written policy has the same settings");
    check(trueno::format_background_policy(*again) == written, "writing it again is stable");
    return 0;
}
