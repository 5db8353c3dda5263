#include "columns.hpp"

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "sizes.hpp"

namespace trueno::zramctl {
namespace {

// Widths and alignment follow zramctl's libsmartcols hints (NAME and MOUNTPOINT have relative
// hints that only matter on a terminal narrower than the table, so they are 0 here).
constexpr std::array<ColumnInfo, 22> kColumns{{
    {ColumnId::Name, "NAME", 0, false, JsonKind::String, "zram device name"},
    {ColumnId::DiskSize, "DISKSIZE", 5, true, JsonKind::Size,
     "limit on the uncompressed amount of data"},
    {ColumnId::Data, "DATA", 5, true, JsonKind::Size, "uncompressed size of stored data"},
    {ColumnId::Compr, "COMPR", 5, true, JsonKind::Size, "compressed size of stored data"},
    {ColumnId::Algorithm, "ALGORITHM", 3, false, JsonKind::String,
     "the selected compression algorithm"},
    {ColumnId::Streams, "STREAMS", 3, true, JsonKind::Number,
     "number of concurrent compress operations"},
    {ColumnId::ZeroPages, "ZERO-PAGES", 3, true, JsonKind::Number,
     "empty pages with no allocated memory"},
    {ColumnId::Total, "TOTAL", 5, true, JsonKind::Size,
     "all memory including allocator fragmentation and metadata overhead"},
    {ColumnId::MemLimit, "MEM-LIMIT", 5, true, JsonKind::Size,
     "memory limit used to store compressed data"},
    {ColumnId::MemUsed, "MEM-USED", 5, true, JsonKind::Size,
     "peak memory usage to store compressed data"},
    {ColumnId::Migrated, "MIGRATED", 5, true, JsonKind::Size,
     "number of objects migrated by compaction"},
    {ColumnId::CompRatio, "COMP-RATIO", 5, true, JsonKind::Number, "compression ratio: DATA/TOTAL"},
    {ColumnId::MountPoint, "MOUNTPOINT", 0, false, JsonKind::String, "where the device is mounted"},
    // mm_stat's fields 8 and 9 (util-linux's open request for zramctl), then object_stat's.
    {ColumnId::HugePages, "HUGE-PAGES", 3, true, JsonKind::Number,
     "incompressible pages stored uncompressed", false},
    {ColumnId::HugeSince, "HUGE-SINCE", 3, true, JsonKind::Number,
     "incompressible pages stored since the device was set up", false},
    {ColumnId::Grouped, "GROUPED", 3, true, JsonKind::Number, "pages held in multi-page objects",
     false},
    {ColumnId::Deduplicated, "DEDUPLICATED", 3, true, JsonKind::Number,
     "pages sharing another page's identical object", false},
    {ColumnId::Recompressed, "RECOMPRESSED", 3, true, JsonKind::Number,
     "pages held by objects a recompression algorithm made", false},
    // Writeback: backing_dev and bd_stat's fields (in 4 KiB units).
    {ColumnId::BackingDev, "BACKING-DEV", 0, false, JsonKind::String,
     "the backing device pages are written back to", false},
    {ColumnId::WrittenBack, "WRITTEN-BACK", 3, true, JsonKind::Number,
     "pages held on the backing device", false},
    {ColumnId::BdReads, "BD-READS", 3, true, JsonKind::Number, "pages read from the backing device",
     false},
    {ColumnId::BdWrites, "BD-WRITES", 3, true, JsonKind::Number,
     "4 KiB blocks written to the backing device (several pages each, packed)", false},
}};

// mm_stat field positions (kernel order).
enum MmField : std::size_t {
    OrigDataSize = 0,
    ComprDataSize = 1,
    MemUsedTotal = 2,
    MemLimit = 3,
    MemUsedMax = 4,
    SamePages = 5,
    PagesCompacted = 6,
    HugePagesNow = 7,
    HugePagesSince = 8,
};

// object_stat field positions.
enum ObjectField : std::size_t {
    GroupedPages = 0,
    DedupPages = 2,
    RecompressedPages = 4,
};

bool equal_nocase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

std::optional<std::string> attribute(const DeviceRecord& d, const std::string& name)
{
    auto it = d.attributes.find(name);
    if (it == d.attributes.end())
        return std::nullopt;
    // Values are sysfs text: strip surrounding whitespace a kernel-style writer may leave.
    const std::string& v = it->second;
    const auto first = v.find_first_not_of(" \t\n");
    if (first == std::string::npos)
        return std::string{};
    const auto last = v.find_last_not_of(" \t\n");
    return v.substr(first, last - first + 1);
}

std::optional<std::uint64_t> to_u64(const std::string& text)
{
    if (text.empty() || text[0] == '-')
        return std::nullopt;
    auto parsed = parse_unsigned(text);
    if (!parsed)
        return std::nullopt;
    return *parsed;
}

// An attribute's white-space separated numbers, or nothing when it is absent or one of them
// is not a number.
std::optional<std::vector<std::string>> number_fields(const DeviceRecord& d,
                                                      const std::string& name) {
    auto text = attribute(d, name);
    if (!text)
        return std::nullopt;
    std::istringstream in(*text);
    std::vector<std::string> fields;
    for (std::string field; in >> field;) {
        if (!to_u64(field))
            return std::nullopt;
        fields.push_back(field);
    }
    return fields;
}

// Field `index` of an attribute of numbers that has at least `at_least` of them, or nothing.
std::optional<std::string> number_field(const DeviceRecord& d, const std::string& name,
                                        std::size_t index, std::size_t at_least) {
    auto fields = number_fields(d, name);
    if (!fields || fields->size() < at_least || index >= fields->size())
        return std::nullopt;
    return (*fields)[index];
}

// One mm_stat field as text, or nothing when mm_stat is absent or malformed (fewer than the
// seven fields zramctl reads, or a field that is not a number).
std::optional<std::string> mm_field(const DeviceRecord& d, std::size_t index) {
    return number_field(d, "mm_stat", index, PagesCompacted + 1);
}

// One bd_stat field (count, reads, writes), or nothing when it is absent or malformed.
std::optional<std::string> bd_field(const DeviceRecord& d, std::size_t index) {
    return number_field(d, "bd_stat", index, 3);
}

// One object_stat field (trueno's multi-page objects and dedup), or nothing when it is absent
// or malformed.
std::optional<std::string> object_field(const DeviceRecord& d, std::size_t index)
{
    return number_field(d, "object_stat", index, 0);
}

std::optional<std::string> size_cell(std::optional<std::string> raw, bool in_bytes)
{
    if (!raw)
        return std::nullopt;
    auto value = to_u64(*raw);
    if (!value)
        return std::nullopt;
    return in_bytes ? std::to_string(*value) : human_size(*value);
}

// comp_algorithm reads "lzo-rle [lz4] zstd": the bracketed name is the one in use.
std::optional<std::string> selected_algorithm(const DeviceRecord& d)
{
    auto text = attribute(d, "comp_algorithm");
    if (!text)
        return std::nullopt;
    const auto open = text->rfind('[');
    const auto close = text->rfind(']');
    if (open == std::string::npos || close == std::string::npos || close <= open + 1)
        return std::nullopt;
    return text->substr(open + 1, close - open - 1);
}

std::optional<std::string> compression_ratio(const DeviceRecord& d)
{
    auto data = mm_field(d, OrigDataSize);
    auto total = mm_field(d, MemUsedTotal);
    if (!data || !total)
        return std::nullopt;
    const auto total_bytes = *to_u64(*total);
    if (total_bytes == 0)
        return std::nullopt; // nothing stored: no ratio (zramctl would print "nan")
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f",
                  static_cast<double>(*to_u64(*data)) / static_cast<double>(total_bytes));
    return std::string(buf);
}

} // namespace

std::span<const ColumnInfo> all_columns() { return kColumns; }

const ColumnInfo& column_info(ColumnId id) { return kColumns[static_cast<std::size_t>(id)]; }

std::vector<ColumnId> output_all_columns()
{
    std::vector<ColumnId> out;
    for (const auto& c : kColumns)
        if (c.in_output_all)
            out.push_back(c.id);
    return out;
}

std::vector<ColumnId> default_columns()
{
    return {ColumnId::Name, ColumnId::Algorithm, ColumnId::DiskSize, ColumnId::Data,
            ColumnId::Compr, ColumnId::Total, ColumnId::Streams, ColumnId::MountPoint};
}

std::optional<ColumnId> column_by_name(std::string_view name)
{
    for (const auto& c : kColumns)
        if (equal_nocase(c.name, name))
            return c.id;
    return std::nullopt;
}

Result<std::vector<ColumnId>> apply_column_list(std::string_view list, std::vector<ColumnId> current)
{
    if (!list.empty() && list.front() == '+')
        list.remove_prefix(1);
    else
        current.clear();
    if (list.empty())
        return make_error(EINVAL, "no columns given in --output list");

    std::size_t start = 0;
    while (start <= list.size()) {
        const auto comma = list.find(',', start);
        const auto name = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (name.empty())
            return make_error(EINVAL, "empty column name in --output list '" + std::string(list) + "'");
        auto id = column_by_name(name);
        if (!id)
            return make_error(EINVAL, "unknown column: " + std::string(name));
        current.push_back(*id);
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return current;
}

std::optional<std::string> cell_text(ColumnId id, const DeviceRecord& d, bool in_bytes)
{
    switch (id) {
    case ColumnId::Name:
        return d.name;
    case ColumnId::DiskSize:
        return size_cell(attribute(d, "disksize"), in_bytes);
    case ColumnId::Data:
        return size_cell(mm_field(d, OrigDataSize), in_bytes);
    case ColumnId::Compr:
        return size_cell(mm_field(d, ComprDataSize), in_bytes);
    case ColumnId::Algorithm:
        return selected_algorithm(d);
    case ColumnId::Streams: {
        auto streams = attribute(d, "max_comp_streams");
        if (!streams || !to_u64(*streams))
            return std::nullopt;
        return streams;
    }
    case ColumnId::ZeroPages:
        return mm_field(d, SamePages); // a page count: never scaled
    case ColumnId::Total:
        return size_cell(mm_field(d, MemUsedTotal), in_bytes);
    case ColumnId::MemLimit:
        return size_cell(mm_field(d, MemLimit), in_bytes);
    case ColumnId::MemUsed:
        return size_cell(mm_field(d, MemUsedMax), in_bytes);
    case ColumnId::Migrated:
        // zramctl formats this count like a size unless --bytes; kept for identical output.
        return size_cell(mm_field(d, PagesCompacted), in_bytes);
    case ColumnId::CompRatio:
        return compression_ratio(d);
    case ColumnId::MountPoint:
        if (d.mountpoint.empty())
            return std::nullopt;
        return d.mountpoint;
    case ColumnId::HugePages:
        return mm_field(d, HugePagesNow); // page counts: never scaled
    case ColumnId::HugeSince:
        return mm_field(d, HugePagesSince);
    case ColumnId::Grouped:
        return object_field(d, GroupedPages);
    case ColumnId::Deduplicated:
        return object_field(d, DedupPages);
    case ColumnId::Recompressed:
        return object_field(d, RecompressedPages); // empty from a daemon older than the field
    case ColumnId::BackingDev: {
        auto dev = attribute(d, "backing_dev");
        if (!dev || dev->empty() || *dev == "none")
            return std::nullopt;
        return dev;
    }
    case ColumnId::WrittenBack:
        return bd_field(d, 0);
    case ColumnId::BdReads:
        return bd_field(d, 1);
    case ColumnId::BdWrites:
        return bd_field(d, 2);
    }
    return std::nullopt;
}

} // namespace trueno::zramctl
