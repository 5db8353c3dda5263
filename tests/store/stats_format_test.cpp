// mm_stat/io_stat text must be byte for byte what the kernel prints for the same numbers.
#include <catch2/catch.hpp>

#include "trueno/stats.hpp"

using namespace trueno;

TEST_CASE("mm_stat text matches the kernel's printf format", "[stats]") {
    MmStat s;
    CHECK(format_mm_stat(s) ==
          "       0        0        0        0        0        0        0        0        0\n");
    s.orig_data_size = 157556736;
    s.compr_data_size = 34938218;
    s.mem_used_total = 35897344;
    s.mem_limit = 1073741824;
    s.mem_used_max = 36003840;
    s.same_pages = 1234;
    s.pages_compacted = 56;
    s.huge_pages = 7;
    s.huge_pages_since = 89;
    CHECK(format_mm_stat(s) == "157556736 34938218 35897344 1073741824 36003840     1234       56"
                               "        7       89\n");
    s = MmStat{};
    s.orig_data_size = 4096;
    s.compr_data_size = 123;
    s.mem_used_total = 8192;
    s.mem_used_max = 8192;
    s.same_pages = 1;
    CHECK(format_mm_stat(s) ==
          "    4096      123     8192        0     8192        1        0        0        0\n");
}

TEST_CASE("io_stat text matches the kernel's printf format", "[stats]") {
    CHECK(format_io_stat(IoStat{}) == "       0        0        0        0\n");
    CHECK(format_io_stat(IoStat{1, 22, 333, 123456789}) ==
          "       1       22      333 123456789\n");
}
