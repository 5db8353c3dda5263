#include "control_wiring.hpp"

#include <spdlog/spdlog.h>

namespace trueno::service {

void register_control(varlink::Server&, DeviceManager&, ublk::ControlDevice&)
{
    // Not wired yet: the io.trueno.zram methods (service/control) have not landed.
    spdlog::error("io.trueno.zram methods are not part of this build");
}

} // namespace trueno::service
