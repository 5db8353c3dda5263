// Main of the persistence tests: they lock System V shared memory in RAM (SHM_LOCK), which
// needs root or CAP_IPC_LOCK. Without it they cannot run at all: exit 77, which meson reports
// as skipped (never as passed).
#include "arena.hpp"
#include "catch_runner.hpp"
#include "shared_memory_key.hpp"

#include <catch2/catch.hpp>
#include <cstdio>

int main(int argc, char** argv) {
    {
        trueno::test::SharedMemoryKey probe;
        auto arena = trueno::store::Arena::create_shared(probe.value(), 1 << 20);
        if (!arena) {
            std::printf("SKIP: cannot make locked shared memory: %s\n",
                        arena.error().message.c_str());
            return 77;
        }
    }
    return trueno::test::run_tests(argc, argv);
}
