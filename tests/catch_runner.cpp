// Catch2's implementation, compiled once for every unit-test executable. It is the test framework,
// not code under test: meson builds this file without sanitizers and without optimization, which
// keeps Catch2's 10 000 lines of implementation from being compiled under AddressSanitizer,
// UBSan and ThreadSanitizer in every test build (it was the costliest file of the CI's builds).
#define CATCH_CONFIG_RUNNER
#include "catch_runner.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace trueno::test {

int run_tests(int argc, char** argv) {
    return Catch::Session().run(argc, argv);
}

int run_tests_needing_corpus(int argc, char** argv, const char* corpus_file) {
    Catch::Session session;
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0)
        return rc;
    std::ifstream corpus(corpus_file, std::ios::binary);
    char first = 0;
    if ((corpus && corpus.read(&first, 1)) || !session.configData().testsOrTags.empty())
        return session.run();
    std::printf("SKIP: the [corpus] tests: cannot read the corpus %s (%s)\n", corpus_file,
                corpus ? "empty" : std::strerror(errno));
    session.configData().testsOrTags.emplace_back("~[corpus]");
    const int failed = session.run();
    return failed != 0 ? failed : 77;
}

} // namespace trueno::test
