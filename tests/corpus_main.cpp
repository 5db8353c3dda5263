// The main of the unit-test executables with tests that read the shared corpus
// (TRUENO_CORPUS_FILE, ../shared/corpus beside the repository). Those tests are tagged [corpus]
// and fail when they cannot read it. With the corpus every test runs. Without it, a plain run (no
// tests named on the command line) runs every test but the [corpus] ones and then exits 77, which
// meson reports as skipped, never as passed; a failure of the others still fails the run. With
// tests named, they run as asked.
#include "catch_runner.hpp"

int main(int argc, char** argv) {
    return trueno::test::run_tests_needing_corpus(argc, argv, TRUENO_CORPUS_FILE);
}
