// DaemonClient over the io.trueno.zram client: the daemon's errors in the words of the
// kernel's errno, as zramctl prints them.
#include <cerrno>
#include <cstring>

#include "daemon_client.hpp"
#include "trueno/zram_client/client.hpp"

namespace trueno::zramctl {
namespace {

using zram_client::CallError;
using zram_client::Failure;

std::string errno_name(int code) {
    return std::strerror(code);
}

std::string with_detail(int code, const std::string& detail) {
    return errno_name(code) + (detail.empty() ? "" : " (" + detail + ")");
}

// A refusal by the daemon: the errno text, then what the daemon said about it.
Error refusal_error(const CallError& e) {
    const std::string& name = e.error_name;
    if (name == "io.trueno.zram.PermissionDenied" || name == varlink::errors::permission_denied)
        return make_error(e.code,
                          errno_name(e.code) + " (only root may change trueno-zram devices)");
    if (name.starts_with("org.varlink.service."))
        return make_error(kDaemonUnreachable, "trueno-zramd does not understand the request (" +
                                                  name + "): is it a different version?");
    if (name == "io.trueno.zram.SystemError") {
        std::string detail = e.text("operation");
        if (const auto reason = e.text("reason"); !reason.empty())
            detail += (detail.empty() ? "" : ": ") + reason;
        return make_error(e.code, with_detail(e.code, detail));
    }
    if (name == "io.trueno.zram.NoSuchDevice" || name == "io.trueno.zram.DeviceExists" ||
        name == "io.trueno.zram.DeviceBusy" || name == "io.trueno.zram.InvalidArgument")
        return make_error(e.code, with_detail(e.code, e.text("reason")));
    return make_error(e.code, "trueno-zramd error " + name +
                                  (e.parameters.empty() ? "" : " " + e.parameters.dump()));
}

class VarlinkDaemonClient final : public DaemonClient {
public:
    explicit VarlinkDaemonClient(std::string path) : client_(std::move(path)) {}

    Result<std::vector<Device>> list_devices() override { return plain(client_.list_devices()); }
    Result<AttributeMap> attributes(int id) override { return plain(client_.attributes(id)); }
    Result<CreatedDevice> create_device(const CreateDeviceRequest& r) override {
        return plain(client_.create_device(r));
    }
    Status remove_device(int id) override { return plain(client_.remove_device(id)); }
    Status set_attribute(int id, const std::string& name, const std::string& value) override {
        return plain(client_.set_attribute(id, name, value));
    }

private:
    // The call's outcome with the error as the user should read it.
    template <typename T> Result<T> plain(zram_client::CallResult<T> r) const {
        if (r)
            return std::move(r.value());
        return user_error(r.error());
    }
    Status plain(zram_client::CallResult<void> r) const {
        if (r)
            return {};
        return user_error(r.error());
    }

    Error user_error(const CallError& e) const {
        const std::string& path = client_.socket_path();
        switch (e.failure) {
        case Failure::unreachable: {
            std::string msg =
                "cannot connect to trueno-zramd at " + path + ": " + errno_name(e.code);
            if (e.code == EACCES || e.code == EPERM)
                msg += " (permission denied: run as root or get access to the socket)";
            else
                msg += "; start it with 'systemctl start trueno-zramd.socket' or run trueno-zramd";
            return make_error(kDaemonUnreachable, msg);
        }
        case Failure::lost:
            return make_error(kDaemonUnreachable,
                              "lost the connection to trueno-zramd at " + path + ": " + e.message);
        case Failure::bad_reply:
            return make_error(kDaemonUnreachable,
                              "unexpected reply from trueno-zramd: " + e.message);
        case Failure::refused:
            break;
        }
        return refusal_error(e);
    }

    zram_client::Client client_;
};

} // namespace

std::unique_ptr<DaemonClient> make_varlink_client(std::string socket_path) {
    return std::make_unique<VarlinkDaemonClient>(std::move(socket_path));
}

} // namespace trueno::zramctl
