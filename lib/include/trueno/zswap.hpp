// Whether the kernel's zswap is on. zswap compresses pages in front of every swap device, so
// pages swapped to a trueno-zram device are compressed twice (and zswap keeps the hot ones in
// its own pool, ahead of ours). Guides for kernel zram say to turn it off; so do we.
#pragma once

#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace trueno {

inline constexpr const char* kZswapEnabledPath = "/sys/module/zswap/parameters/enabled";

// The parameter's text: "Y"/"N" (also 1/0, y/n, as the kernel's bool parser writes or takes);
// anything else is not known.
inline std::optional<bool> parse_zswap_enabled(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    if (text == "Y" || text == "y" || text == "1") return true;
    if (text == "N" || text == "n" || text == "0") return false;
    return std::nullopt;
}

// nullopt when the file cannot be read (a kernel without zswap) or says something else.
inline std::optional<bool> zswap_enabled(const std::string& path = kZswapEnabledPath) {
    std::ifstream in(path);
    std::string text;
    if (!in || !std::getline(in, text)) return std::nullopt;
    return parse_zswap_enabled(text);
}

// The warning both the daemon's log and trueno-zramctl --stat give.
inline constexpr const char* kZswapWarning =
    "zswap is enabled: pages swapped to trueno-zram devices are compressed twice, first by "
    "zswap in front of them; turn it off with 'echo N > /sys/module/zswap/parameters/enabled' "
    "(or zswap.enabled=0 on the kernel command line)";

} // namespace trueno
