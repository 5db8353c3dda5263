// The whole-number environment values of the service manager's protocols.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace trueno::service_manager {

// A decimal number with nothing before or after it, or none.
inline std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

} // namespace trueno::service_manager
