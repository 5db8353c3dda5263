// zramctl's output columns and how each cell is computed from a device's kernel-zram attributes.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::zramctl {

// Attribute name -> value as kernel zram's sysfs file reads (what GetAttributes returns).
using AttributeMap = std::map<std::string, std::string>;

enum class ColumnId {
    Name,
    DiskSize,
    Data,
    Compr,
    Algorithm,
    Streams,
    ZeroPages,
    Total,
    MemLimit,
    MemUsed,
    Migrated,
    CompRatio,
    MountPoint,
    // Beyond zramctl's columns (not in --output-all, which stays zramctl's).
    HugePages,
    HugeSince,
    Grouped,
    Deduplicated,
    Recompressed,
    BackingDev,
    WrittenBack,
    BdReads,
    BdWrites,
};

// How a cell appears in --json: always a string, always a number, or a number only with --bytes
// (a human size like "4G" stays a string), as lsblk does.
enum class JsonKind { String, Number, Size };

struct ColumnInfo {
    ColumnId id;
    std::string_view name;
    std::size_t min_width; // libsmartcols width hint: the narrowest the column prints
    bool right_aligned;
    JsonKind json;
    std::string_view help;
    bool in_output_all = true; // one of zramctl's columns, which --output-all prints
};

// Every column: zramctl's in its order, then trueno-zram's own.
std::span<const ColumnInfo> all_columns();
const ColumnInfo& column_info(ColumnId id);

// zramctl's columns, in its order: what --output-all prints.
std::vector<ColumnId> output_all_columns();

// NAME ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS MOUNTPOINT.
std::vector<ColumnId> default_columns();

// Case-insensitive lookup of one column name.
std::optional<ColumnId> column_by_name(std::string_view name);

// Applies an --output LIST to the current columns: "+A,B" appends, "A,B" replaces. Error
// message for the user: "unknown column: X" (or a note about an empty name).
Result<std::vector<ColumnId>> apply_column_list(std::string_view list, std::vector<ColumnId> current);

// One device's row input: its path, its attributes, and where it is in use ("" if nowhere).
struct DeviceRecord {
    std::string name;
    AttributeMap attributes;
    std::string mountpoint;
};

// The cell text; std::nullopt where zramctl leaves the cell empty (value unknown).
std::optional<std::string> cell_text(ColumnId id, const DeviceRecord& device, bool in_bytes);

} // namespace trueno::zramctl
