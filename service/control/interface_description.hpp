// The io.trueno.zram interface text, served by org.varlink.service.GetInterfaceDescription.
#pragma once

#include <string_view>

namespace trueno::service {

inline constexpr std::string_view zram_interface_name = "io.trueno.zram";

// Identical to service/io.trueno.zram.varlink (a test compares them byte for byte).
std::string_view zram_interface_description();

} // namespace trueno::service
