// The main of most unit-test executables: runs their Catch2 tests.
#include "catch_runner.hpp"

int main(int argc, char** argv) {
    return trueno::test::run_tests(argc, argv);
}
