// Renders device rows as zramctl does through libsmartcols: an aligned table, --raw, or --json.
#pragma once

#include "columns.hpp"

#include <string>
#include <vector>

namespace trueno::zramctl {

enum class OutputFormat { Table, Raw, Json };

struct RenderOptions {
    std::vector<ColumnId> columns;
    OutputFormat format = OutputFormat::Table;
    bool headings = true;
    bool in_bytes = false;
};

// The whole output, as libsmartcols prints it for zramctl (newline-terminated lines; nothing
// for an empty table but in JSON). Table: columns as wide as their widest cell or heading in
// display cells (never under the width hint), numbers right-aligned, the last column unpadded
// when left-aligned, unprintable characters as \xNN. Raw: single spaces, blanks, backslashes
// and non-ASCII bytes as \xNN. Json: {"zramdevices": [...]} with lowercase keys, 3-space
// indent, null for empty cells. Throws std::system_error if libsmartcols fails (no memory).
std::string render(const std::vector<DeviceRecord>& devices, const RenderOptions& options);

} // namespace trueno::zramctl
