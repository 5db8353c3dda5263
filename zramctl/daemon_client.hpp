// What trueno-zramctl asks of trueno-zramd, independent of the transport, so the CLI logic does
// not care how calls travel (VarlinkDaemonClient is the real one).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "columns.hpp"
#include "trueno/result.hpp"

namespace trueno::zramctl {

// Error.code for failures to reach or talk to the daemon at all (as opposed to the daemon
// refusing a request, whose code is the errno it reports: ENODEV, EBUSY, EINVAL, EACCES ...).
inline constexpr int kDaemonUnreachable = -1;

struct DeviceEntry {
    int id = -1;
    std::string name;
    AttributeMap attributes;
};

struct CreateRequest {
    std::uint64_t size = 0;
    std::optional<std::string> algorithm;
    std::optional<std::string> params;
    std::optional<int> id;        // none: the kernel picks
    std::optional<unsigned> streams;
};

struct CreatedDevice {
    int id = -1;
    std::string name;
};

class DaemonClient {
public:
    virtual ~DaemonClient() = default;
    virtual Result<std::vector<DeviceEntry>> list_devices() = 0;
    virtual Result<AttributeMap> attributes(int id) = 0;
    virtual Result<CreatedDevice> create_device(const CreateRequest& request) = 0;
    virtual Status remove_device(int id) = 0;
    virtual Status set_attribute(int id, const std::string& name, const std::string& value) = 0;
};

// Talks io.trueno.zram over the varlink socket at path; connects on the first call, so
// commands that need no daemon never touch the socket.
std::unique_ptr<DaemonClient> make_varlink_client(std::string socket_path);

} // namespace trueno::zramctl
