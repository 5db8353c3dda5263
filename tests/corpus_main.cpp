// Catch2 (v2) main of the unit-test executables with tests that read the shared corpus
// (TRUENO_CORPUS_FILE, ../shared/corpus beside the repository). Those tests are tagged
// [corpus] and fail when they cannot read it. With the corpus every test runs. Without it, a
// plain run (no tests named on the command line) runs every test but the [corpus] ones and
// then exits 77, which meson reports as skipped, never as passed; a failure of the others
// still fails the run. With tests named, they run as asked.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

int main(int argc, char** argv) {
    Catch::Session session;
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0)
        return rc;
    std::ifstream corpus(TRUENO_CORPUS_FILE, std::ios::binary);
    char first = 0;
    if ((corpus && corpus.read(&first, 1)) || !session.configData().testsOrTags.empty())
        return session.run();
    std::printf("SKIP: the [corpus] tests: cannot read the corpus %s (%s)\n", TRUENO_CORPUS_FILE,
                corpus ? "empty" : std::strerror(errno));
    session.configData().testsOrTags.emplace_back("~[corpus]");
    const int failed = session.run();
    return failed != 0 ? failed : 77;
}
