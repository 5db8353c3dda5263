// Unit names for paths, by systemd-escape --path rules (systemd.unit(5) "String Escaping").
#pragma once

#include <string>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::generator {

// "/var/my tmp" -> "var-my\x20tmp". The path must be absolute and normalized (no . or ..);
// "/" becomes "-". Duplicate and trailing slashes are dropped.
Result<std::string> escape_path(std::string_view path);

// escape_path() + ".mount"; ENAMETOOLONG when the name would pass systemd's 255-byte limit.
Result<std::string> mount_unit_name(std::string_view path);

} // namespace trueno::generator
