// Renders device rows as zramctl does through libsmartcols: an aligned table, --raw, or --json.
#pragma once

#include <string>
#include <vector>

#include "columns.hpp"

namespace trueno::zramctl {

enum class OutputFormat { Table, Raw, Json };

struct RenderOptions {
    std::vector<ColumnId> columns;
    OutputFormat format = OutputFormat::Table;
    bool headings = true;
    bool in_bytes = false;
};

// The whole output, newline-terminated lines. Table: columns separated by one space, each as
// wide as its widest cell or heading (never under its width hint), numbers right-aligned, text
// left-aligned, the last column unpadded when left-aligned. Raw: single spaces, blanks escaped
// as \x20. Json: {"zramdevices": [...]} with lowercase keys, 3-space indent, null for empty.
std::string render(const std::vector<DeviceRecord>& devices, const RenderOptions& options);

} // namespace trueno::zramctl
