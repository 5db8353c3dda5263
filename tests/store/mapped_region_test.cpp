// Pages given back must really be dropped (they read as zeros), also in a process that locked
// its memory with mlockall() as the daemon does.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "mapped_region.hpp"
#include "trueno/page.hpp"

using trueno::kPageSize;
using trueno::store::MappedRegion;

namespace {

// 0: released pages read as zeros, the others kept their bytes; 1: they did not.
int fill_release_check(MappedRegion& region) {
    std::memset(region.data(), 0x5a, 8 * kPageSize);
    if (!region.release(2 * kPageSize, 3 * kPageSize)) return 1;
    for (std::size_t i = 0; i < 8 * kPageSize; ++i) {
        const bool dropped = i >= 2 * kPageSize && i < 5 * kPageSize;
        if (region.data()[i] != (dropped ? std::byte{0} : std::byte{0x5a})) return 1;
    }
    return 0;
}

} // namespace

TEST_CASE("released pages are dropped", "[mapped_region]") {
    auto region = MappedRegion::map(8 * kPageSize);
    REQUIRE(region.ok());
    REQUIRE(region->size() == 8 * kPageSize);
    REQUIRE(fill_release_check(*region) == 0);
}

TEST_CASE("released pages are dropped under mlockall", "[mapped_region]") {
    // In a child, so the test process itself is not locked.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) _exit(77);
        auto region = MappedRegion::map(8 * kPageSize);
        _exit(region.ok() ? fill_release_check(*region) : 2);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        WARN("SKIPPED: mlockall is not permitted here (RLIMIT_MEMLOCK)");
        return;
    }
    REQUIRE(WEXITSTATUS(status) == 0);
}
