// mm_stat and io_stat in the kernel's exact printf formats (zram_drv.c), so tools that parse
// /sys/block/zramN/mm_stat parse ours unchanged.
#include <cstdio>

#include "trueno/stats.hpp"

namespace trueno {

std::string format_mm_stat(const MmStat& s) {
    char text[256];
    const int n = std::snprintf(
        text, sizeof text, "%8llu %8llu %8llu %8lu %8ld %8llu %8lu %8llu %8llu\n",
        static_cast<unsigned long long>(s.orig_data_size),
        static_cast<unsigned long long>(s.compr_data_size),
        static_cast<unsigned long long>(s.mem_used_total), static_cast<unsigned long>(s.mem_limit),
        static_cast<long>(s.mem_used_max), static_cast<unsigned long long>(s.same_pages),
        static_cast<unsigned long>(s.pages_compacted), static_cast<unsigned long long>(s.huge_pages),
        static_cast<unsigned long long>(s.huge_pages_since));
    return std::string(text, static_cast<std::size_t>(n));
}

std::string format_bd_stat(const BdStat& s) {
    char text[96];
    const int n = std::snprintf(
        text, sizeof text, "%8llu %8llu %8llu\n", static_cast<unsigned long long>(s.count),
        static_cast<unsigned long long>(s.reads), static_cast<unsigned long long>(s.writes));
    return std::string(text, static_cast<std::size_t>(n));
}

std::string format_io_stat(const IoStat& s) {
    char text[128];
    const int n = std::snprintf(text, sizeof text, "%8llu %8llu %8llu %8llu\n",
                                static_cast<unsigned long long>(s.failed_reads),
                                static_cast<unsigned long long>(s.failed_writes),
                                static_cast<unsigned long long>(s.invalid_io),
                                static_cast<unsigned long long>(s.notify_free));
    return std::string(text, static_cast<std::size_t>(n));
}

std::string format_object_stat(const ObjectStat& s) {
    char text[128];
    const int n = std::snprintf(text, sizeof text, "%8llu %8llu %8llu %8llu %8llu\n",
                                static_cast<unsigned long long>(s.grouped_pages),
                                static_cast<unsigned long long>(s.groups),
                                static_cast<unsigned long long>(s.dedup_pages),
                                static_cast<unsigned long long>(s.shared_objects),
                                static_cast<unsigned long long>(s.recompressed_pages));
    return std::string(text, static_cast<std::size_t>(n));
}

} // namespace trueno
