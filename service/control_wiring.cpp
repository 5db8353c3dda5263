#include "control_wiring.hpp"

#include "trueno/codec.hpp"

namespace trueno::service {

std::unique_ptr<ZramControl> register_control(varlink::Server& server, DeviceManager& devices,
                                              const ublk::ControlDevice& control, ublk::CopyMode copy_mode)
{
    DaemonInfo info;
    info.version = TRUENO_VERSION;
    for (const auto& codec : available_codecs())
        info.algorithms.emplace_back(codec.name);
    info.ublk_features = control.features().value_or(0);
    // User copy is what new devices get: the kernel must offer it and the mode must allow it.
    info.user_copy = copy_mode != ublk::CopyMode::buffer && (info.ublk_features & UBLK_F_USER_COPY) != 0;
    auto zram_control = std::make_unique<ZramControl>(devices, std::move(info));
    register_zram_control(server, *zram_control);
    return zram_control;
}

} // namespace trueno::service
