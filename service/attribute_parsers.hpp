// The text parsers behind the zram attributes (zram_attributes.cpp): numbers, sizes and
// "key=value" lists as the kernel's sysfs store functions read them. Pure functions of their
// input, separate so that they can be tested and fuzzed on their own (tests/fuzz).
//
// The contract every function here keeps, whatever the input bytes:
//   - it reads only [text.data(), text.data() + text.size()) and needs no NUL terminator;
//   - it returns a value or an Error whose code is EINVAL (not of the expected form) or ERANGE
//     (of the form, but too large), with a message quoting the offending text;
//   - it throws nothing but std::bad_alloc (from building that message or the result).
#pragma once

#include "trueno/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trueno::service {

// text without one trailing '\n', if it has one: sysfs hands a store function the newline
// that echo adds.
std::string_view strip_newline(std::string_view text);

// text without leading and trailing white space (std::isspace in the "C" locale).
std::string_view trim(std::string_view text);

// The kernel's kstrtoint/kstrtouint/kstrtoull: after one trailing newline is stripped, the
// whole text is one number, or EINVAL. An optional '+' comes first; '-' only for a signed T.
// base is 10, 16, 8 (any of 2..36), or 0: "0x"/"0X" followed by a hex digit means hex, another
// leading '0' octal, anything else decimal. No white space, no empty digits, nothing after
// them. ERANGE when the number does not fit in T (for signed T: down to its minimum).
// Instantiated for int, std::uint32_t and std::uint64_t.
template <typename T> Result<T> kstrto(std::string_view text, int base);

extern template Result<int> kstrto<int>(std::string_view, int);
extern template Result<std::uint32_t> kstrto<std::uint32_t>(std::string_view, int);
extern template Result<std::uint64_t> kstrto<std::uint64_t>(std::string_view, int);

// The kernel's memparse for disksize and mem_limit: surrounding white space is ignored, then
// a number in base 0 (as kstrto; no sign) and an optional suffix K, M, G, T, P or E in either
// case (powers of 1024). Unlike the kernel, nothing else may follow (so "1GB" is EINVAL, not
// 1 GiB). ERANGE when the number or the number times the suffix exceeds 2^64 - 1.
Result<std::uint64_t> memparse(std::string_view text);

// One "key=value" of an argument list.
struct Arg {
    std::string key;
    std::string value;
};

// "key=value key2=value2" as the kernel's next_arg splits it: tokens are separated by white
// space outside double quotes; a token is split at its first '='. The key is the text before
// it as written (quotes included, possibly empty); the value is the text after it with every
// '"' removed. EINVAL for an unbalanced quote, and for a token whose value comes out empty
// ("key", "key=", "key=\"\""). White space alone is an empty list.
Result<std::vector<Arg>> split_args(std::string_view text);

} // namespace trueno::service
