// Runs the Catch2 (v2) tests linked into an executable. Catch2's implementation is compiled once,
// in catch_runner.cpp, for every unit-test executable; the mains call these instead of defining
// CATCH_CONFIG_MAIN or CATCH_CONFIG_RUNNER themselves.
#pragma once

namespace trueno::test {

// The tests named on the command line (every test by default), as Catch2's own main runs them.
// Returns Catch2's exit status.
int run_tests(int argc, char** argv);

// For executables with [corpus] tests, which read `corpus_file`. When the file cannot be read and
// no test is named on the command line, runs every test but the [corpus] ones and returns 77
// (meson's "skipped") unless one of them failed. Otherwise as run_tests.
int run_tests_needing_corpus(int argc, char** argv, const char* corpus_file);

} // namespace trueno::test
