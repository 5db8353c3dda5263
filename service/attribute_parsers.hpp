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

#include "trueno/page_store.hpp"
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

// The writeback attribute's text for a device of `pages` pages, as the passes to run in order.
// Kernel 6.12's forms: one word (idle, huge, huge_idle, incompressible) or page_index=N. 6.16's:
// white-space separated tokens type=MODE, page_index=N and page_indexes=A-B (inclusive),
// several in one write. Each page_index(es) is a pass over its pages whatever their state; a
// mode (a word or type=) is a pass over the last range given (every page if none) and ends the
// list, as in the kernel. N, A or B beyond the device, or A > B: ERANGE. Unknown words and keys:
// EINVAL (the kernel ignores unknown keys; a typo here should not pass silently). White space
// alone: no pass.
Result<std::vector<WritebackOptions>> parse_writeback(std::string_view text, std::uint64_t pages);

} // namespace trueno::service
