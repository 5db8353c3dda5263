// Reading and writing small text files with errors that say why (EACCES, EISDIR ...).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::generator {

// The whole file; refuses more than 1 MiB (a config that big is a mistake, not a config).
Result<std::string> read_text_file(const std::filesystem::path& path);

// Creates the parent folders and writes the file (mode 0644), replacing any old one.
Status write_text_file(const std::filesystem::path& path, std::string_view text);

} // namespace trueno::generator
