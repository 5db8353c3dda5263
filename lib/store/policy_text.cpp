#include "policy_text.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace trueno::store {

namespace {

constexpr std::uint64_t kMaxSeconds = 10ULL * 365 * 24 * 3600;

} // namespace

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
            ++pos;
        std::size_t end = pos;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
            ++end;
        if (end > pos)
            words.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return words;
}

Result<std::uint64_t> parse_count(std::string_view key, std::string_view text) {
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size())
        return make_error(EINVAL, std::string(key) + "=" + std::string(text) + " is not a whole number");
    return value;
}

Result<std::uint64_t> parse_seconds(std::string_view key, std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
        ++digits;
    const std::string_view unit = text.substr(digits);
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "s") scale = 1;
    else if (unit == "m" || unit == "min") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit == "d") scale = 86400;
    if (digits == 0 || scale == 0)
        return make_error(EINVAL, std::string(key) + "=" + std::string(text) +
                                      " is not a time (seconds, or with s, min, h, d)");
    auto n = parse_count(key, text.substr(0, digits));
    if (!n) return n.error();
    if (*n > kMaxSeconds / scale)
        return make_error(EINVAL, std::string(key) + "=" + std::string(text) + " is more than ten years");
    return *n * scale;
}

} // namespace trueno::store
