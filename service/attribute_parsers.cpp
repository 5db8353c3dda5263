// The zram attributes' text parsers (attribute_parsers.hpp has the contract).
#include "attribute_parsers.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

namespace trueno::service {

namespace {

// Base 0 as the kernel's simple_strtoull: 0x hex, leading 0 octal, else decimal. Returns the
// value, how many characters were used (0: none) and whether it overflowed.
struct ParsedNumber {
    std::uint64_t value = 0;
    std::size_t used = 0;
    bool overflow = false;
};

ParsedNumber parse_auto_base(std::string_view text) {
    int base = 10;
    std::size_t start = 0;
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
        text.size() > 2 && std::isxdigit(static_cast<unsigned char>(text[2]))) {
        base = 16;
        start = 2;
    } else if (text.size() >= 2 && text[0] == '0') {
        base = 8;
    }
    ParsedNumber n;
    const auto* first = text.data() + start;
    const auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), n.value, base);
    if (ptr == first)
        return n; // nothing parsed
    n.used = static_cast<std::size_t>(ptr - text.data());
    n.overflow = ec == std::errc::result_out_of_range;
    return n;
}

} // namespace

std::string_view strip_newline(std::string_view text) {
    if (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    return text;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

template <typename T> Result<T> kstrto(std::string_view text, int base) {
    text = strip_newline(text);
    bool negative = false;
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    } else if (std::is_signed_v<T> && !text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    std::uint64_t magnitude = 0;
    bool overflow = false;
    if (base == 0) {
        auto n = parse_auto_base(text);
        if (n.used == 0 || n.used != text.size())
            return make_error(EINVAL, "'" + std::string(text) + "' is not a number");
        magnitude = n.value;
        overflow = n.overflow;
    } else {
        const auto [ptr, ec] =
            std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
        if (text.empty() || ptr != text.data() + text.size() ||
            (ec != std::errc{} && ec != std::errc::result_out_of_range))
            return make_error(EINVAL, "'" + std::string(text) + "' is not a number");
        overflow = ec == std::errc::result_out_of_range;
    }
    using Limits = std::numeric_limits<T>;
    const std::uint64_t limit = negative ? static_cast<std::uint64_t>(Limits::max()) + 1
                                         : static_cast<std::uint64_t>(Limits::max());
    if (overflow || magnitude > limit)
        return make_error(ERANGE, "'" + std::string(text) + "' is out of range");
    if (negative)
        return static_cast<T>(-static_cast<std::int64_t>(magnitude));
    return static_cast<T>(magnitude);
}

template Result<int> kstrto<int>(std::string_view, int);
template Result<std::uint32_t> kstrto<std::uint32_t>(std::string_view, int);
template Result<std::uint64_t> kstrto<std::uint64_t>(std::string_view, int);

Result<std::uint64_t> memparse(std::string_view text) {
    text = trim(text);
    auto n = parse_auto_base(text);
    if (n.used == 0)
        return make_error(EINVAL, "'" + std::string(text) +
                                      "' is not a size (bytes, or with K, M, G suffix)");
    if (n.overflow)
        return make_error(ERANGE, "'" + std::string(text) + "' is too large");
    auto rest = text.substr(n.used);
    unsigned shift = 0;
    if (!rest.empty()) {
        switch (rest.front()) {
        case 'E':
        case 'e':
            shift = 60;
            break;
        case 'P':
        case 'p':
            shift = 50;
            break;
        case 'T':
        case 't':
            shift = 40;
            break;
        case 'G':
        case 'g':
            shift = 30;
            break;
        case 'M':
        case 'm':
            shift = 20;
            break;
        case 'K':
        case 'k':
            shift = 10;
            break;
        default:
            break;
        }
        if (shift != 0)
            rest.remove_prefix(1);
    }
    if (!rest.empty())
        return make_error(EINVAL, "'" + std::string(text) +
                                      "' is not a size (bytes, or with K, M, G suffix)");
    if (shift != 0 && n.value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return make_error(ERANGE, "'" + std::string(text) + "' is too large");
    return n.value << shift;
}

Result<std::vector<Arg>> split_args(std::string_view text) {
    std::vector<Arg> args;
    std::size_t pos = 0;
    while (true) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
            ++pos;
        if (pos >= text.size())
            break;
        std::size_t end = pos;
        bool quoted = false;
        while (end < text.size() &&
               (quoted || !std::isspace(static_cast<unsigned char>(text[end])))) {
            if (text[end] == '"')
                quoted = !quoted;
            ++end;
        }
        if (quoted)
            return make_error(EINVAL, "unbalanced quote in '" + std::string(text) + "'");
        std::string_view token = text.substr(pos, end - pos);
        pos = end;
        const auto eq = token.find('=');
        std::string key(token.substr(0, eq));
        std::string value;
        if (eq != std::string_view::npos) {
            for (char c : token.substr(eq + 1))
                if (c != '"')
                    value += c;
        }
        if (value.empty())
            return make_error(EINVAL, "'" + key + "' needs a value (" + key + "=...)");
        args.push_back({std::move(key), std::move(value)});
    }
    return args;
}

namespace {

std::optional<WritebackOptions::Type> writeback_mode(std::string_view word) {
    if (word == "idle")
        return WritebackOptions::Type::idle;
    if (word == "huge")
        return WritebackOptions::Type::huge;
    if (word == "huge_idle")
        return WritebackOptions::Type::huge_idle;
    if (word == "incompressible")
        return WritebackOptions::Type::incompressible;
    return std::nullopt;
}

Result<std::uint64_t> writeback_page(std::string_view text, std::uint64_t pages, const char* what) {
    auto n = kstrto<std::uint64_t>(text, 10);
    if (!n)
        return n.error();
    if (*n >= pages)
        return make_error(ERANGE, std::string(what) + " " + std::string(text) +
                                      " is beyond the device's " + std::to_string(pages) +
                                      " pages");
    return *n;
}

} // namespace

Result<std::vector<WritebackOptions>> parse_writeback(std::string_view text, std::uint64_t pages) {
    std::vector<WritebackOptions> passes;
    std::uint64_t first = 0;
    std::uint64_t last = pages == 0 ? 0 : pages - 1;
    std::size_t pos = 0;
    while (true) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
            ++pos;
        if (pos >= text.size())
            break;
        std::size_t end = pos;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
            ++end;
        const std::string_view token = text.substr(pos, end - pos);
        pos = end;
        const auto eq = token.find('=');
        const std::string_view key = token.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view() : token.substr(eq + 1);
        if (eq == std::string_view::npos || key == "type") {
            const auto mode = writeback_mode(eq == std::string_view::npos ? token : value);
            if (!mode)
                return make_error(EINVAL,
                                  "writeback: '" + std::string(token) +
                                      "' is not a mode (idle, huge, huge_idle, incompressible, or "
                                      "type=..., page_index=N, page_indexes=A-B)");
            passes.push_back({*mode, first, last});
            break; // as the kernel: a mode ends the list
        }
        if (key == "page_index") {
            auto n = writeback_page(value, pages, "page_index");
            if (!n)
                return n.error();
            first = last = *n;
        } else if (key == "page_indexes") {
            const auto dash = value.find('-');
            if (dash == std::string_view::npos)
                return make_error(EINVAL,
                                  "writeback: page_indexes=" + std::string(value) + " is not A-B");
            auto a = writeback_page(value.substr(0, dash), pages, "page_indexes");
            if (!a)
                return a.error();
            auto b = writeback_page(value.substr(dash + 1), pages, "page_indexes");
            if (!b)
                return b.error();
            if (*a > *b)
                return make_error(ERANGE, "writeback: page_indexes=" + std::string(value) +
                                              " ends before it starts");
            first = *a;
            last = *b;
        } else {
            return make_error(EINVAL, "writeback: unknown parameter '" + std::string(key) +
                                          "' (known: type, page_index, page_indexes)");
        }
        passes.push_back({WritebackOptions::Type::any, first, last});
    }
    return passes;
}

} // namespace trueno::service
