#include "metric_families.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <sstream>
#include <vector>

namespace trueno::metrics {
namespace {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return v;
}

std::optional<double> parse_double(std::string_view text) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return v;
}

std::string number_text(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v); // shortest round-trip form
    return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
}

const std::string* attribute(const AttributeMap& a, const char* name) {
    const auto it = a.find(name);
    return it == a.end() ? nullptr : &it->second;
}

// The whitespace-separated fields of a one-line statistic (mm_stat, io_stat, ...), or nothing
// when one of them is not a number.
std::optional<std::vector<std::uint64_t>> fields(const AttributeMap& a, const char* name) {
    const std::string* text = attribute(a, name);
    if (!text)
        return std::nullopt;
    std::istringstream in(*text);
    std::vector<std::uint64_t> out;
    for (std::string word; in >> word;) {
        auto v = parse_u64(word);
        if (!v)
            return std::nullopt;
        out.push_back(*v);
    }
    return out;
}

std::optional<std::uint64_t> field(const AttributeMap& a, const char* name, std::size_t index) {
    auto all = fields(a, name);
    if (!all || index >= all->size())
        return std::nullopt;
    return (*all)[index];
}

// "key value" lines (debug_stat's lines after the kernel's first two).
std::optional<std::uint64_t> keyed_line(const AttributeMap& a, const char* name, std::string_view key) {
    const std::string* text = attribute(a, name);
    if (!text)
        return std::nullopt;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string k, v, rest;
        if (words >> k >> v && !(words >> rest) && k == key)
            return parse_u64(v);
    }
    return std::nullopt;
}

// "key=value" on recompress_policy's "last pass:" line.
std::optional<std::string> last_pass_token(const AttributeMap& a, std::string_view key) {
    const std::string* text = attribute(a, "recompress_policy");
    if (!text)
        return std::nullopt;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("last pass: ", 0) != 0)
            continue;
        std::istringstream words(line.substr(11));
        for (std::string word; words >> word;)
            if (word.size() > key.size() && word.compare(0, key.size(), key) == 0 && word[key.size()] == '=')
                return word.substr(key.size() + 1);
    }
    return std::nullopt;
}

std::optional<SampleValue> count(std::optional<std::uint64_t> v) {
    if (!v)
        return std::nullopt;
    return SampleValue{std::to_string(*v), {}, {}};
}

// mm_stat's fields, in the kernel's order.
template <std::size_t I> std::optional<SampleValue> mm(const AttributeMap& a) { return count(field(a, "mm_stat", I)); }
template <std::size_t I> std::optional<SampleValue> io(const AttributeMap& a) { return count(field(a, "io_stat", I)); }
template <std::size_t I> std::optional<SampleValue> bd(const AttributeMap& a) { return count(field(a, "bd_stat", I)); }
template <std::size_t I> std::optional<SampleValue> object(const AttributeMap& a) {
    return count(field(a, "object_stat", I));
}
// The block layer's /sys/block/DEV/stat: reads, read merges, read sectors, read ticks, writes, ...
template <std::size_t I> std::optional<SampleValue> block(const AttributeMap& a) {
    return count(field(a, "stat", I));
}
template <std::size_t I> std::optional<SampleValue> block_sectors_bytes(const AttributeMap& a) {
    auto sectors = field(a, "stat", I);
    if (!sectors)
        return std::nullopt;
    return SampleValue{std::to_string(*sectors * 512), {}, {}};
}

std::optional<SampleValue> disksize(const AttributeMap& a) {
    const std::string* text = attribute(a, "disksize");
    return text ? count(parse_u64(*text)) : std::nullopt;
}

std::optional<SampleValue> streams(const AttributeMap& a) {
    const std::string* text = attribute(a, "max_comp_streams");
    return text ? count(parse_u64(*text)) : std::nullopt;
}

// comp_algorithm reads "lzo-rle [lz4] zstd": the bracketed name is the one in use.
std::optional<SampleValue> algorithm(const AttributeMap& a) {
    const std::string* text = attribute(a, "comp_algorithm");
    if (!text)
        return std::nullopt;
    const auto open = text->rfind('[');
    const auto close = text->rfind(']');
    if (open == std::string::npos || close == std::string::npos || close <= open + 1)
        return std::nullopt;
    return SampleValue{"1", "algorithm", text->substr(open + 1, close - open - 1)};
}

// orig_data_size / mem_used_total, zramctl's COMP-RATIO; none while nothing is stored.
std::optional<SampleValue> ratio(const AttributeMap& a) {
    auto orig = field(a, "mm_stat", 0);
    auto used = field(a, "mm_stat", 2);
    if (!orig || !used || *used == 0)
        return std::nullopt;
    return SampleValue{number_text(static_cast<double>(*orig) / static_cast<double>(*used)), {}, {}};
}

template <const char* Key> std::optional<SampleValue> debug(const AttributeMap& a) {
    return count(keyed_line(a, "debug_stat", Key));
}

template <const char* Key> std::optional<SampleValue> last_pass_count(const AttributeMap& a) {
    auto text = last_pass_token(a, Key);
    return text ? count(parse_u64(*text)) : std::nullopt;
}

std::optional<SampleValue> last_pass_cpu(const AttributeMap& a) {
    auto text = last_pass_token(a, "cpu_seconds");
    auto v = text ? parse_double(*text) : std::nullopt;
    if (!v)
        return std::nullopt;
    return SampleValue{number_text(*v), {}, {}};
}

constexpr char kReserveBytes[] = "reserve_bytes";
constexpr char kReserveMisses[] = "reserve_misses";
constexpr char kReserveBorrows[] = "reserve_borrows";
constexpr char kReserveWaits[] = "reserve_waits";
constexpr char kReserveRefusals[] = "reserve_refusals";
constexpr char kRecoveries[] = "recoveries";
constexpr char kDamagedPages[] = "damaged_pages";
constexpr char kNumber[] = "number";
constexpr char kTried[] = "tried";
constexpr char kKept[] = "kept";
constexpr char kBytesBefore[] = "bytes_before";
constexpr char kBytesAfter[] = "bytes_after";

using T = MetricType;

const std::array kFamilies{
    MetricFamily{"trueno_zram_disksize_bytes", T::Gauge, "bytes", "Size of the device (disksize).",
                 disksize},
    MetricFamily{"trueno_zram_algorithm", T::Info, "",
                 "The compression algorithm in use (comp_algorithm).", algorithm},
    MetricFamily{"trueno_zram_comp_streams", T::Gauge, "",
                 "Concurrent compression streams (max_comp_streams).", streams},
    MetricFamily{"trueno_zram_orig_data_bytes", T::Gauge, "bytes",
                 "Uncompressed size of the data stored, same-filled pages included (mm_stat "
                 "orig_data_size).",
                 mm<0>},
    MetricFamily{"trueno_zram_compr_data_bytes", T::Gauge, "bytes",
                 "Compressed size of the data stored (mm_stat compr_data_size).", mm<1>},
    MetricFamily{
        "trueno_zram_mem_used_total_bytes", T::Gauge, "bytes",
        "Memory taken from the system to store the data, allocator overhead included (mm_stat "
        "mem_used_total).",
        mm<2>},
    MetricFamily{"trueno_zram_mem_limit_bytes", T::Gauge, "bytes",
                 "Limit on the memory used to store the data, 0 for none (mm_stat mem_limit).",
                 mm<3>},
    MetricFamily{"trueno_zram_mem_used_max_bytes", T::Gauge, "bytes",
                 "Peak of the memory used to store the data (mm_stat mem_used_max).", mm<4>},
    MetricFamily{"trueno_zram_same_pages", T::Gauge, "pages",
                 "Same-filled pages, stored without memory (mm_stat same_pages).", mm<5>},
    MetricFamily{"trueno_zram_compacted_pages", T::Counter, "pages",
                 "Pages freed by compaction (mm_stat pages_compacted).", mm<6>},
    MetricFamily{"trueno_zram_huge_pages", T::Gauge, "pages",
                 "Pages stored uncompressed because they did not compress (mm_stat huge_pages).",
                 mm<7>},
    MetricFamily{
        "trueno_zram_huge_stored_pages", T::Counter, "pages",
        "Pages stored uncompressed since the device was set up (mm_stat huge_pages_since).", mm<8>},
    MetricFamily{
        "trueno_zram_compression_ratio", T::Gauge, "ratio",
        "Uncompressed data per byte of memory used: orig_data_size / mem_used_total (zramctl's "
        "COMP-RATIO).",
        ratio},
    MetricFamily{"trueno_zram_failed_reads", T::Counter, "",
                 "Reads that failed (io_stat failed_reads).", io<0>},
    MetricFamily{"trueno_zram_failed_writes", T::Counter, "",
                 "Writes that failed, a full store included (io_stat failed_writes).", io<1>},
    MetricFamily{"trueno_zram_invalid_io", T::Counter, "",
                 "Requests refused as not page-aligned or out of range (io_stat invalid_io).",
                 io<2>},
    MetricFamily{"trueno_zram_notify_free", T::Counter, "",
                 "Pages freed by discards and swap slot frees (io_stat notify_free).", io<3>},
    MetricFamily{"trueno_zram_reads", T::Counter, "",
                 "Read requests the block layer completed (/sys/block/DEV/stat): swap-ins.",
                 block<0>},
    MetricFamily{"trueno_zram_read_bytes", T::Counter, "bytes",
                 "Bytes read through the block layer (/sys/block/DEV/stat).",
                 block_sectors_bytes<2>},
    MetricFamily{"trueno_zram_writes", T::Counter, "",
                 "Write requests the block layer completed (/sys/block/DEV/stat): swap-outs.",
                 block<4>},
    MetricFamily{"trueno_zram_written_bytes", T::Counter, "bytes",
                 "Bytes written through the block layer (/sys/block/DEV/stat).",
                 block_sectors_bytes<6>},
    MetricFamily{"trueno_zram_backing_dev_pages", T::Gauge, "pages",
                 "Pages on the backing device (bd_stat bd_count).", bd<0>},
    MetricFamily{"trueno_zram_backing_dev_read_pages", T::Counter, "pages",
                 "Pages read from the backing device (bd_stat bd_reads).", bd<1>},
    MetricFamily{
        "trueno_zram_backing_dev_written_pages", T::Counter, "pages",
        "4 KiB blocks written to the backing device, several pages each (bd_stat bd_writes).",
        bd<2>},
    MetricFamily{"trueno_zram_grouped_pages", T::Gauge, "pages",
                 "Pages held in multi-page objects (object_stat grouped_pages).", object<0>},
    MetricFamily{"trueno_zram_page_groups", T::Gauge, "",
                 "Multi-page objects (object_stat groups).", object<1>},
    MetricFamily{
        "trueno_zram_deduplicated_pages", T::Gauge, "pages",
        "Pages sharing another page's object, the first not counted (object_stat dedup_pages).",
        object<2>},
    MetricFamily{"trueno_zram_shared_objects", T::Gauge, "",
                 "Objects shared by deduplicated pages (object_stat shared_objects).", object<3>},
    MetricFamily{
        "trueno_zram_recompressed_pages", T::Gauge, "pages",
        "Pages held by objects a recompression codec made (object_stat recompressed_pages).",
        object<4>},
    MetricFamily{
        "trueno_zram_reserve_bytes", T::Gauge, "bytes",
        "Populated memory kept free so that writes never fault (debug_stat reserve_bytes).",
        debug<kReserveBytes>},
    MetricFamily{"trueno_zram_reserve_misses", T::Counter, "",
                 "Allocations that found no populated memory ready in their size class (debug_stat "
                 "reserve_misses).",
                 debug<kReserveMisses>},
    MetricFamily{
        "trueno_zram_reserve_borrows", T::Counter, "",
        "Misses placed in a larger size class's slot instead (debug_stat reserve_borrows).",
        debug<kReserveBorrows>},
    MetricFamily{"trueno_zram_reserve_waits", T::Counter, "",
                 "Misses that waited for the refiller (debug_stat reserve_waits).",
                 debug<kReserveWaits>},
    MetricFamily{"trueno_zram_reserve_refusals", T::Counter, "",
                 "Writes refused after that wait (debug_stat reserve_refusals).",
                 debug<kReserveRefusals>},
    MetricFamily{
        "trueno_zram_recoveries", T::Counter, "",
        "Times a new trueno-zramd took the device over with its pages (debug_stat recoveries).",
        debug<kRecoveries>},
    MetricFamily{
        "trueno_zram_damaged_pages", T::Gauge, "pages",
        "Pages found damaged when the device was taken over; they read as errors (debug_stat "
        "damaged_pages).",
        debug<kDamagedPages>},
    MetricFamily{
        "trueno_zram_recompress_passes", T::Counter, "",
        "Passes of the background recompression policy (recompress_policy last pass number).",
        last_pass_count<kNumber>},
    MetricFamily{
        "trueno_zram_recompress_last_pass_tried_pages", T::Gauge, "pages",
        "Pages the last background recompression pass recompressed (recompress_policy tried).",
        last_pass_count<kTried>},
    MetricFamily{"trueno_zram_recompress_last_pass_kept_pages", T::Gauge, "pages",
                 "Pages whose recompressed form the last pass kept (recompress_policy kept).",
                 last_pass_count<kKept>},
    MetricFamily{
        "trueno_zram_recompress_last_pass_before_bytes", T::Gauge, "bytes",
        "Compressed bytes of the kept pages before the last pass (recompress_policy bytes_before).",
        last_pass_count<kBytesBefore>},
    MetricFamily{
        "trueno_zram_recompress_last_pass_after_bytes", T::Gauge, "bytes",
        "Compressed bytes of the kept pages after the last pass (recompress_policy bytes_after).",
        last_pass_count<kBytesAfter>},
    MetricFamily{
        "trueno_zram_recompress_last_pass_cpu_seconds", T::Gauge, "seconds",
        "CPU time of the last background recompression pass (recompress_policy cpu_seconds).",
        last_pass_cpu},
};

} // namespace

std::span<const MetricFamily> metric_families() { return kFamilies; }

} // namespace trueno::metrics
