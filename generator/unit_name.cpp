#include "unit_name.hpp"

#include <cctype>
#include <cstdio>
#include <vector>

namespace trueno::generator {

Result<std::string> escape_path(std::string_view path)
{
    if (path.empty() || path[0] != '/') return make_error(EINVAL, "not an absolute path");
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t start = i;
        while (i < path.size() && path[i] != '/') ++i;
        if (i > start) {
            auto part = path.substr(start, i - start);
            if (part == "." || part == "..") return make_error(EINVAL, "path has . or .. components");
            parts.push_back(part);
        }
    }
    if (parts.empty()) return std::string("-");
    std::string out;
    for (std::size_t p = 0; p < parts.size(); ++p) {
        if (p > 0) out += '-';
        for (std::size_t k = 0; k < parts[p].size(); ++k) {
            unsigned char c = static_cast<unsigned char>(parts[p][k]);
            bool first = p == 0 && k == 0;
            // Kept as is: ASCII letters, digits, ':', '_' and '.' (except a leading '.').
            bool keep = std::isalnum(c) && c < 0x80;
            keep = keep || c == ':' || c == '_' || (c == '.' && !first);
            if (keep) {
                out += static_cast<char>(c);
            } else {
                char hex[5];
                std::snprintf(hex, sizeof hex, "\\x%02x", c);
                out += hex;
            }
        }
    }
    return out;
}

Result<std::string> mount_unit_name(std::string_view path)
{
    auto escaped = escape_path(path);
    if (!escaped) return escaped;
    std::string name = *escaped + ".mount";
    if (name.size() > 255) return make_error(ENAMETOOLONG, "unit name for this path is longer than 255 bytes");
    return name;
}

} // namespace trueno::generator
