#include "device_path.hpp"

#include <climits>

namespace trueno::zramctl {

std::optional<int> ublk_id_from_path(std::string_view path)
{
    constexpr std::string_view dev = "/dev/";
    constexpr std::string_view stem = "ublkb";
    if (path.substr(0, dev.size()) == dev)
        path.remove_prefix(dev.size());
    if (path.substr(0, stem.size()) != stem)
        return std::nullopt;
    path.remove_prefix(stem.size());
    if (path.empty() || path.size() > 10 || (path.size() > 1 && path[0] == '0'))
        return std::nullopt;
    long long id = 0;
    for (char c : path) {
        if (c < '0' || c > '9')
            return std::nullopt;
        id = id * 10 + (c - '0');
    }
    if (id > INT_MAX)
        return std::nullopt;
    return static_cast<int>(id);
}

std::string ublk_path(int id) { return "/dev/ublkb" + std::to_string(id); }

} // namespace trueno::zramctl
