// What trueno-zramctl asks of trueno-zramd, independent of the transport, so the CLI logic does
// not care how calls travel (VarlinkDaemonClient is the real one).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "columns.hpp"
#include "trueno/result.hpp"
#include "trueno/zram_client/requests.hpp"

namespace trueno::zramctl {

// Error.code for failures to reach or talk to the daemon at all (as opposed to the daemon
// refusing a request, whose code is the errno it reports: ENODEV, EBUSY, EINVAL, EACCES ...).
inline constexpr int kDaemonUnreachable = -1;

// The request and reply structs are the io.trueno.zram client's.
using zram_client::CreateDeviceRequest;
using zram_client::CreatedDevice;
using zram_client::Device;

class DaemonClient {
public:
    virtual ~DaemonClient() = default;
    virtual Result<std::vector<Device>> list_devices() = 0;
    virtual Result<AttributeMap> attributes(int id) = 0;
    virtual Result<CreatedDevice> create_device(const CreateDeviceRequest& request) = 0;
    virtual Status remove_device(int id) = 0;
    virtual Status set_attribute(int id, const std::string& name, const std::string& value) = 0;
};

// Talks io.trueno.zram over the varlink socket at path; connects on the first call, so
// commands that need no daemon never touch the socket.
std::unique_ptr<DaemonClient> make_varlink_client(std::string socket_path);

} // namespace trueno::zramctl
