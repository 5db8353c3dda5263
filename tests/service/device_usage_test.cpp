// Parsing /proc/swaps and /proc/self/mountinfo to refuse removing a device in use, and what a
// failed exclusive open of the device means for its removal. The open itself needs a kernel
// with ublk: the VM tests cover it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "device_usage.hpp"

using trueno::service::claim_for_removal;
using trueno::service::mount_user;
using trueno::service::removal_verdict;
using trueno::service::swap_user;

namespace {
const char* kSwaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                     "/dev/zram0                              partition\t4194300\t\t0\t\t100\n"
                     "/dev/ublkb3                             partition\t1048572\t\t1024\t\t-2\n"
                     "/var/swap\\040file                       file\t\t1024\t\t0\t\t-3\n";
bool never(const std::string&, dev_t) { return false; }
bool only_by_number(const std::string& path, dev_t devt) { return path == "/dev/disk/by-id/x" && devt == makedev(259, 7); }
} // namespace

TEST_CASE("/proc/swaps: a listed device is busy, others are not")
{
    REQUIRE(swap_user(kSwaps, "/dev/ublkb3", makedev(259, 3), never).has_value());
    REQUIRE(swap_user(kSwaps, "/dev/ublkb3", 0, never)->find("swap") != std::string::npos);
    REQUIRE_FALSE(swap_user(kSwaps, "/dev/ublkb1", makedev(259, 1), never).has_value());
    REQUIRE_FALSE(swap_user(kSwaps, "/dev/ublkb", 0, never).has_value()); // no prefix matches
    REQUIRE(swap_user(kSwaps, "/var/swap file", 0, never).has_value()); // octal escapes decoded
    REQUIRE_FALSE(swap_user("Filename Type Size Used Priority\n", "/dev/ublkb0", 0, never).has_value());
    // Swap enabled through another path to the same device is found by device number.
    const char* by_id = "Filename Type Size Used Priority\n/dev/disk/by-id/x partition 4 0 -2\n";
    REQUIRE(swap_user(by_id, "/dev/ublkb7", makedev(259, 7), only_by_number).has_value());
}

TEST_CASE("/proc/self/mountinfo: matched by major:minor")
{
    const char* info = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                       "40 22 259:3 / /mnt/my\\040data rw,relatime shared:20 - ext4 /dev/ublkb3 rw\n";
    auto r = mount_user(info, makedev(259, 3));
    REQUIRE(r.has_value());
    REQUIRE(r->find("/mnt/my data") != std::string::npos);
    REQUIRE_FALSE(mount_user(info, makedev(259, 30)).has_value());
    REQUIRE_FALSE(mount_user(info, makedev(25, 93)).has_value());
    REQUIRE_FALSE(mount_user(info, 0).has_value());
    REQUIRE_FALSE(mount_user("garbage\n\n", makedev(259, 3)).has_value());
}

TEST_CASE("removal: the exclusive open's EBUSY refuses, worded by the tables when they know")
{
    int asked = 0;
    auto swap = [&]() -> std::optional<std::string> {
        ++asked;
        return "active swap";
    };
    auto nothing = [&]() -> std::optional<std::string> {
        ++asked;
        return std::nullopt;
    };
    auto r = removal_verdict("/dev/ublkb3", EBUSY, swap);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EBUSY);
    CHECK(r.error().message == "/dev/ublkb3 is active swap");
    // Held where this process cannot see it (a mount in another namespace): still busy.
    r = removal_verdict("/dev/ublkb3", EBUSY, nothing);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EBUSY);
    CHECK(r.error().message.find("/dev/ublkb3 is in use") == 0);
    CHECK(asked == 2);
    // No node to open: the tables decide.
    CHECK(removal_verdict("/dev/ublkb3", ENOENT, swap).error().code == EBUSY);
    CHECK(removal_verdict("/dev/ublkb3", ENOENT, nothing).ok());
    // A dead device (ENXIO) or other failure does not stop the removal, nor asks the tables.
    asked = 0;
    CHECK(removal_verdict("/dev/ublkb3", ENXIO, swap).ok());
    CHECK(removal_verdict("/dev/ublkb3", EIO, swap).ok());
    CHECK(asked == 0);
}

TEST_CASE("removal: a path that is no device in use is claimed, or skipped when missing")
{
    // A regular file opens (O_EXCL without O_CREAT only means something for block devices).
    char path[] = "/tmp/trueno-claim-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    auto held = claim_for_removal(path, 0);
    REQUIRE(held.ok());
    CHECK(held->valid());
    ::unlink(path);
    auto missing = claim_for_removal("/dev/ublkb-no-such-device", makedev(259, 999));
    REQUIRE(missing.ok());
    CHECK_FALSE(missing->valid());
}
