// The io.trueno.zram methods: parameter checks, the root-only rule for changes, and errno ->
// varlink errors, over a DeviceManager. Knows nothing about ublk or sockets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../device_manager.hpp"
#include "trueno/varlink/server.hpp"

namespace trueno::service {

// What GetDaemonInfo reports; filled in by the daemon at start-up.
struct DaemonInfo {
    std::string version;
    std::vector<std::string> algorithms;
    std::uint64_t ublk_features = 0; // UBLK_F_* bits the kernel offered
    bool user_copy = false;          // UBLK_F_USER_COPY is in use
};

class ZramControl {
public:
    ZramControl(DeviceManager& devices, DaemonInfo info);

    // One handler per method. Each answers every input with a reply or an error reply, never
    // an exception (a throwing DeviceManager becomes SystemError).
    varlink::Reply list_devices(const varlink::CallContext& ctx);
    varlink::Reply create_device(const varlink::CallContext& ctx);
    varlink::Reply remove_device(const varlink::CallContext& ctx);
    varlink::Reply get_attributes(const varlink::CallContext& ctx);
    varlink::Reply set_attribute(const varlink::CallContext& ctx);
    varlink::Reply get_daemon_info(const varlink::CallContext& ctx);

    // Method name ("ListDevices") -> handler, for Server::add_interface.
    varlink::MethodTable methods();

private:
    DeviceManager& devices_;
    DaemonInfo info_;
};

// Registers io.trueno.zram (with its interface text) on the server; call before start().
// control must outlive the server's loop.
void register_zram_control(varlink::Server& server, ZramControl& control);

} // namespace trueno::service
