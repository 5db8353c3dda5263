// Connects the varlink server to the devices: registers the io.trueno.zram methods (the
// control side's ZramControl) over the device manager, with the daemon facts GetDaemonInfo
// reports.
#pragma once

#include <memory>

#include "control/zram_control.hpp"
#include "device_manager.hpp"
#include "trueno/varlink/server.hpp"
#include "ublk/control_device.hpp"
#include "ublk/ublk_device.hpp"

namespace trueno::service {

// The returned object serves the calls: keep it alive until the server has stopped.
std::unique_ptr<ZramControl> register_control(varlink::Server& server, DeviceManager& devices,
                                              const ublk::ControlDevice& control, ublk::CopyMode copy_mode);

} // namespace trueno::service
