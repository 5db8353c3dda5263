// What every fuzz target uses to report a broken property: the message on stderr, then abort(),
// which libFuzzer takes as a crash and whose input it keeps.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace trueno::fuzz {

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz: property broken: %s\n", what);
    std::abort();
}

inline void check(bool holds, const char* what) {
    if (!holds)
        fail(what);
}

} // namespace trueno::fuzz
