// Fuzz target: the zram attributes' text parsers (service/attribute_parsers.hpp), which take
// whatever a client writes to an attribute. Byte 0 picks the parser, the rest is the text.
// Besides the contract's error codes, each is checked against what its numbers must mean:
// kstrto against a plain digit-by-digit reference, memparse and split_args against their own
// output written back as text.
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "attribute_parsers.hpp"
#include "fuzz_check.hpp"

using trueno::Result;
using trueno::fuzz::check;
namespace svc = trueno::service;

namespace {

template <typename T> void check_error_code(const Result<T>& r, const char* what) {
    if (!r)
        check(r.error().code == EINVAL || r.error().code == ERANGE, what);
}

int digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

// What kstrto<T>(text, base) must return, worked out the slow, obvious way: the value, or the
// errno of its failure.
template <typename T> std::pair<std::optional<T>, int> reference(std::string_view text, int base) {
    if (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    bool negative = false;
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    } else if (std::is_signed_v<T> && !text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    if (base == 0) {
        if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
            digit_value(text[2]) < 16) {
            base = 16;
            text.remove_prefix(2);
        } else {
            base = text.size() >= 2 && text[0] == '0' ? 8 : 10;
        }
    }
    if (text.empty())
        return {std::nullopt, EINVAL};
    unsigned __int128 magnitude = 0;
    bool huge = false;
    for (char c : text) {
        const int d = digit_value(c);
        if (d >= base)
            return {std::nullopt, EINVAL};
        magnitude = magnitude * static_cast<unsigned>(base) + static_cast<unsigned>(d);
        if (magnitude > std::numeric_limits<std::uint64_t>::max()) {
            huge = true; // keeps scanning: a bad digit later is EINVAL, which wins over ERANGE
            magnitude = 0;
        }
    }
    const unsigned __int128 limit =
        static_cast<unsigned __int128>(std::numeric_limits<T>::max()) + (negative ? 1 : 0);
    if (huge || magnitude > limit)
        return {std::nullopt, ERANGE};
    const auto value =
        negative ? static_cast<T>(-static_cast<__int128>(magnitude)) : static_cast<T>(magnitude);
    return {value, 0};
}

template <typename T> void check_kstrto(std::string_view text, int base) {
    const auto got = svc::kstrto<T>(text, base);
    const auto [value, error] = reference<T>(text, base);
    if (value) {
        check(got.ok() && *got == *value, "kstrto returns the number the digits spell");
    } else {
        check(!got.ok() && got.error().code == error, "kstrto fails as the reference does");
    }
}

void check_memparse(std::string_view text) {
    const auto got = svc::memparse(text);
    check_error_code(got, "memparse fails with EINVAL or ERANGE");
    if (!got)
        return;
    const auto plain = svc::memparse(std::to_string(*got));
    check(plain.ok() && *plain == *got, "memparse reads its value back in decimal");
    const auto padded = svc::memparse(" \t" + std::string(text) + "\n ");
    check(padded.ok() && *padded == *got, "memparse ignores surrounding white space");
}

void check_split_args(std::string_view text) {
    const auto got = svc::split_args(text);
    check_error_code(got, "split_args fails with EINVAL or ERANGE");
    if (!got)
        return;
    std::string rewritten;
    bool plain_keys = true;
    for (const auto& arg : *got) {
        check(!arg.value.empty(), "every value is non-empty");
        check(arg.value.find('"') == std::string::npos, "values carry no quotes");
        check(arg.key.find('=') == std::string::npos, "keys end at the first '='");
        if (arg.key.find('"') != std::string::npos)
            plain_keys = false;
        rewritten += arg.key + "=\"" + arg.value + "\" ";
    }
    if (!plain_keys)
        return; // a quoted key keeps its quotes, so it cannot be written back the same way
    const auto again = svc::split_args(rewritten);
    check(again.ok() && again->size() == got->size(), "written-back arguments split the same");
    for (std::size_t i = 0; i < got->size(); ++i)
        check((*again)[i].key == (*got)[i].key && (*again)[i].value == (*got)[i].value,
              "written-back arguments split the same");
}

void check_writeback(std::string_view text) {
    constexpr std::uint64_t kPages = 1000;
    const auto got = svc::parse_writeback(text, kPages);
    check_error_code(got, "parse_writeback fails with EINVAL or ERANGE");
    if (!got)
        return;
    for (const auto& pass : *got)
        check(pass.first_page <= pass.last_page && pass.last_page < kPages,
              "every pass lies on the device");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 9) {
    case 0:
        check_kstrto<int>(text, 10);
        break;
    case 1:
        check_kstrto<int>(text, 0);
        break;
    case 2:
        check_kstrto<std::uint32_t>(text, 10);
        break;
    case 3:
        check_kstrto<std::uint64_t>(text, 10);
        break;
    case 4:
        check_kstrto<std::uint64_t>(text, 0);
        break;
    case 5:
        check_memparse(text);
        break;
    case 6:
        check_split_args(text);
        break;
    case 8:
        check_writeback(text);
        break;
    default: {
        const auto stripped = svc::strip_newline(text);
        check(stripped.size() + 1 >= text.size() && text.starts_with(stripped),
              "strip_newline removes at most one character at the end");
        const auto trimmed = svc::trim(text);
        check(trimmed.data() >= text.data() &&
                  trimmed.data() + trimmed.size() <= text.data() + text.size(),
              "trim returns a part of its input");
        check(trimmed.empty() || (!std::isspace(static_cast<unsigned char>(trimmed.front())) &&
                                  !std::isspace(static_cast<unsigned char>(trimmed.back()))),
              "trim leaves no white space at either end");
        break;
    }
    }
    return 0;
}
