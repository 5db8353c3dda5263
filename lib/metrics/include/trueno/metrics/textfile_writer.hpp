// Files for node_exporter's textfile collector, replaced atomically: a reader sees the old
// file or the new one, never a part.
#pragma once

#include <filesystem>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::metrics {

// Where a metrics file may go: its directory exists and is a directory. The error names it
// (ENOENT: does not exist, ENOTDIR: not a directory).
Status check_textfile_directory(const std::filesystem::path& file);

// Writes content to a temporary file in file's directory (".NAME.tmp": hidden, and not *.prom,
// so the collector skips it), fsyncs it, renames it over file and fsyncs the directory. On
// failure the temporary file is removed and file is as it was.
Status write_textfile(const std::filesystem::path& file, std::string_view content);

} // namespace trueno::metrics
