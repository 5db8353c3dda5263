// Fuzz target: the zram-size expression language (generator/expression.cpp), evaluated at boot
// over the machine's RAM. It must give a finite number or an EINVAL naming a column, whatever
// the text, and not run out of stack on deep nesting.
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "expression.hpp"
#include "fuzz_check.hpp"

using trueno::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const trueno::generator::Variables variables{{"ram", 7823.4}};
    const auto value = trueno::generator::evaluate(text, variables);
    if (value) {
        check(std::isfinite(*value), "an expression evaluates to a finite number");
    } else {
        check(value.error().code == EINVAL, "a bad expression is EINVAL");
        check(value.error().message.find(" at column ") != std::string::npos,
              "a bad expression's message names a column");
    }
    return 0;
}
