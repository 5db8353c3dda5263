#include "sizes.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace trueno::zramctl {
namespace {

constexpr std::string_view kSuffixUpper = "KMGTPEZY";
constexpr std::string_view kSuffixLower = "kmgtpezy";
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

Error invalid(std::string_view text) { return make_error(EINVAL, "invalid size '" + std::string(text) + "'"); }
Error too_big(std::string_view text) { return make_error(ERANGE, "size out of range '" + std::string(text) + "'"); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Multiplies in place; false on overflow.
bool scale(std::uint64_t& value, std::uint64_t base, int power)
{
    for (int i = 0; i < power; ++i) {
        if (value > kMax / base)
            return false;
        value *= base;
    }
    return true;
}

// Reads an unsigned integer the way strtoumax(base 0) would: "0x" hex, leading "0" octal.
// Returns the count of characters consumed (0 if none).
std::size_t read_integer(std::string_view s, std::uint64_t& value, bool& overflow)
{
    std::size_t i = 0;
    unsigned base = 10;
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s.size() > 2 &&
        std::isxdigit(static_cast<unsigned char>(s[2]))) {
        base = 16;
        i = 2;
    } else if (!s.empty() && s[0] == '0') {
        base = 8;
    }
    const std::size_t start = i;
    value = 0;
    overflow = false;
    for (; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        unsigned digit;
        if (std::isdigit(c))
            digit = c - '0';
        else if (base == 16 && std::isxdigit(c))
            digit = static_cast<unsigned>(std::tolower(c) - 'a' + 10);
        else
            break;
        if (digit >= base)
            break;
        if (value > (kMax - digit) / base)
            overflow = true;
        else
            value = value * base + digit;
    }
    return i == start && base != 8 ? 0 : i;
}

} // namespace

Result<std::uint64_t> parse_size(std::string_view text)
{
    std::size_t pos = 0;
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
        ++pos;
    if (pos == text.size() || text[pos] == '-')
        return invalid(text);
    if (text[pos] == '+')
        ++pos;

    std::uint64_t whole = 0;
    bool overflow = false;
    const std::size_t used = read_integer(text.substr(pos), whole, overflow);
    if (used == 0)
        return invalid(text);
    if (overflow)
        return too_big(text);
    pos += used;
    if (pos == text.size())
        return whole;

    // Optional fraction: ".25" (the C locale's decimal point, as the tool runs without locale).
    std::string fraction_digits;
    if (text[pos] == '.') {
        ++pos;
        while (pos < text.size() && is_digit(text[pos]))
            fraction_digits += text[pos++];
        if (pos == text.size())
            return invalid(text); // a fraction needs a unit
    }

    // Suffix: one letter, optionally "iB" (powers of 1024) or "B" (powers of 1000).
    const char letter = text[pos];
    int power = 0;
    if (auto at = kSuffixUpper.find(letter); at != std::string_view::npos)
        power = static_cast<int>(at) + 1;
    else if (auto low = kSuffixLower.find(letter); low != std::string_view::npos)
        power = static_cast<int>(low) + 1;
    else
        return invalid(text);
    const std::string_view rest = text.substr(pos + 1);
    std::uint64_t base = 1024;
    if (rest.empty() || rest == "iB" || rest == "ib")
        base = 1024;
    else if (rest == "B" || rest == "b")
        base = 1000;
    else
        return invalid(text);

    std::uint64_t value = whole;
    if (!scale(value, base, power))
        return too_big(text);

    // Fraction of one unit, exact and truncated: "0.25G" = 2^28, "0.5MB" = 500000. (util-linux
    // adds per-digit truncated parts and can land a byte short; the page rounding hides that.)
    if (!fraction_digits.empty()) {
        std::uint64_t unit = 1;
        if (!scale(unit, base, power))
            return too_big(text);
        unsigned __int128 numerator = 0, denominator = 1;
        for (char d : fraction_digits) {
            if (denominator >= 10'000'000'000'000'000'000ull)
                break; // 19 digits: further ones are below one byte, and the product stays in 128 bits
            numerator = numerator * 10 + static_cast<unsigned>(d - '0');
            denominator *= 10;
        }
        const unsigned __int128 add = numerator * unit / denominator;
        if (add > kMax - value)
            return too_big(text);
        value += static_cast<std::uint64_t>(add);
    }
    return value;
}

Result<std::uint64_t> parse_unsigned(std::string_view text)
{
    if (text.empty())
        return make_error(EINVAL, "empty number");
    std::size_t pos = 0;
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
        ++pos;
    if (pos < text.size() && text[pos] == '-')
        return make_error(ERANGE, "negative number");
    if (pos < text.size() && text[pos] == '+')
        ++pos;
    std::uint64_t value = 0;
    bool overflow = false;
    const std::size_t used = read_integer(text.substr(pos), value, overflow);
    if (used == 0 || pos + used != text.size())
        return make_error(EINVAL, "not a number");
    if (overflow)
        return make_error(ERANGE, "number out of range");
    return value;
}

std::string human_size(std::uint64_t bytes)
{
    static constexpr std::string_view letters = "BKMGTPE";
    int exp = 0; // power of two of the unit: 0, 10, 20 ... 60
    while (exp < 60 && bytes >= (std::uint64_t{1} << (exp + 10)))
        exp += 10;
    const char unit = letters[static_cast<std::size_t>(exp / 10)];
    std::uint64_t whole = exp ? bytes >> exp : bytes;
    std::uint64_t frac = exp ? bytes & ((std::uint64_t{1} << exp) - 1) : 0;

    if (frac) {
        // Three decimal digits of the remainder, then round to one digit (half up).
        if (frac >= kMax / 1000)
            frac = ((frac / 1024) * 1000) >> (exp - 10);
        else
            frac = (frac * 1000) >> exp;
        frac = (frac + 50) / 100;
        if (frac == 10) {
            ++whole;
            frac = 0;
        }
    }
    std::string out = std::to_string(whole);
    if (frac)
        out += "." + std::to_string(frac);
    out += unit;
    return out;
}

} // namespace trueno::zramctl
