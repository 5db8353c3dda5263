// The zram-size language: arithmetic over `ram` (MemTotal in MiB), as zram-generator's configs
// use it, with size suffixes that mean binary units (4G = 4096 MiB, 500k = 500 KiB).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::generator {

// Names usable in an expression, e.g. {"ram", 7823.4}.
using Variables = std::map<std::string, double, std::less<>>;

// Evaluates `text` to a number of MiB. Grammar (lowest precedence first):
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | '/' | '%') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := atom ('^' unary)?            (right-associative)
//   atom    := number suffix? | name | name '(' sum (',' sum)* ')' | '(' sum ')'
// Suffixes: K/k (KiB), M/m (MiB), G/g (GiB), T/t (TiB), all converted to MiB.
// Functions: min, max (1+ arguments), abs, floor, ceil, round, int (1 argument).
// Constants: e, pi. Errors (EINVAL) say what was expected and at which column.
Result<double> evaluate(std::string_view text, const Variables& variables);

} // namespace trueno::generator
