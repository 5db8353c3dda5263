// Device names: trueno-zram devices are ublk block devices, /dev/ublkbN with N the ublk id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace trueno::zramctl {

// "/dev/ublkb3" or "ublkb3" -> 3; anything else (other devices, junk, ids past INT_MAX) -> none.
std::optional<int> ublk_id_from_path(std::string_view path);

// 3 -> "/dev/ublkb3".
std::string ublk_path(int id);

} // namespace trueno::zramctl
