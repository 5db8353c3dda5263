// Connects the varlink server to the devices: registers the io.trueno.zram methods (the
// control side's class) over the device manager.
#pragma once

#include "device_manager.hpp"
#include "trueno/varlink/server.hpp"
#include "ublk/control_device.hpp"

namespace trueno::service {

void register_control(varlink::Server& server, DeviceManager& devices, ublk::ControlDevice& control);

} // namespace trueno::service
