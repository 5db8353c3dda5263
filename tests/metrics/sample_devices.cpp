#include "sample_devices.hpp"

namespace trueno::metrics::testing {

std::vector<DeviceAttributes> sample_devices() {
    DeviceAttributes busy{"/dev/ublkb0",
                          {
                              {"disksize", "4294967296"},
                              {"initstate", "1"},
                              {"comp_algorithm", "lzo lzo-rle lz4 lz4hc [zstd] deflate adaptive "},
                              {"max_comp_streams", "2"},
                              {"mm_stat", "12058624  2723840  2834432        0  3145728      371        5       17       40"},
                              {"io_stat", "       1        2        3     4096"},
                              {"bd_stat", "       0        0        0"},
                              {"debug_stat", "version: 1\n0        0\nreserve_bytes 262144\nreserve_misses 9\n"
                                             "reserve_borrows 7\nreserve_waits 2\nreserve_refusals 0\nrecoveries 3\n"
                                             "damaged_pages 0"},
                              {"object_stat", "     640       20       12        5      300"},
                              {"recompress_policy",
                               "idle=600 algo=zstd\nlast pass: number=4 marked_idle=120 tried=100 kept=80 raced=1 "
                               "bytes_before=204800 bytes_after=102400 cpu_seconds=0.125 seconds=0.5 "
                               "ratio_before=2.500 ratio_after=2.750 retrained=no"},
                              {"stat", "    5120        0    40960      100     7168        0    57344      200        0"
                                       "      300      300        0        0        0        0        0        0"},
                          }};
    DeviceAttributes empty{"/dev/ublkb12",
                           {
                               {"disksize", "536870912"},
                               {"comp_algorithm", "[lzo-rle] lz4 zstd "},
                               {"max_comp_streams", "16"},
                               {"mm_stat", "       0        0        0        0        0        0        0        0        0"},
                               {"io_stat", "       0        0        0        0"},
                               {"debug_stat", "version: 1\n0        0\nreserve_bytes 0\nreserve_misses 0"},
                               {"recompress_policy", "off"},
                           }};
    // Not a name the daemon gives, but a label value must survive anything.
    DeviceAttributes odd{"/dev/odd \"quoted\" back\\slash\nnewline",
                         {{"mm_stat", "4096 1024 8192 0 8192 0 0 0 0"}, {"io_stat", "0 0 0 0"}}};
    return {busy, empty, odd};
}

} // namespace trueno::metrics::testing
