// MOUNTPOINT: [SWAP] from /proc/swaps, else the mount point from mountinfo.
#include <catch2/catch.hpp>

#include <sys/sysmacros.h>

#include "mounts.hpp"

using namespace trueno::zramctl;

TEST_CASE("swap wins, then mounts by source path or by major:minor", "[mounts]")
{
    const std::string swaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                              "/dev/ublkb0                             partition\t4194300\t\t0\t\t100\n"
                              "/swap\\040file                           file\t\t1024\t\t0\t\t-2\n";
    const std::string mountinfo = "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
                                  "97 22 259:7 / /mnt/scratch\\040dir rw shared:50 - ext4 /dev/ublkb1 rw\n"
                                  "98 22 259:9 / /srv/data rw - xfs /dev/mapper/thing rw\n"
                                  "short line\n";
    MountTable t(swaps, mountinfo);
    CHECK(t.usage_of("/dev/ublkb0", 0, false) == "[SWAP]");
    CHECK(t.usage_of("/dev/ublkb1", 0, false) == "/mnt/scratch dir");
    CHECK(t.usage_of("/dev/ublkb9", makedev(259, 9), true) == "/srv/data"); // same device, other name
    CHECK(t.usage_of("/dev/ublkb9", makedev(259, 10), true).empty());
    CHECK(t.usage_of("/swap file", 0, false) == "[SWAP]");
    CHECK(t.usage_of("Filename", 0, false).empty()); // the heading is not a swap device
    CHECK(MountTable("", "").usage_of("/dev/ublkb0", 0, false).empty());
}

TEST_CASE("proc octal escapes", "[mounts]")
{
    CHECK(unescape_proc_field("/a\\040b\\011c") == "/a b\tc");
    CHECK(unescape_proc_field("/plain") == "/plain");
    CHECK(unescape_proc_field("/end\\04") == "/end\\04");
    CHECK(unescape_proc_field("\\134") == "\\");
}
