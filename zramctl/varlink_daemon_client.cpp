// DaemonClient over lib/varlink: io.trueno.zram calls and their errors as errno-coded messages.
#include <cerrno>
#include <cstring>

#include "daemon_client.hpp"
#include "trueno/varlink/client.hpp"

namespace trueno::zramctl {
namespace {

using varlink::Json;

constexpr const char* kInterface = "io.trueno.zram.";

std::string errno_name(int code) { return std::strerror(code); }

// The daemon's typed errors, in the words the kernel's errno gives them.
Error from_varlink_error(const varlink::Reply& reply)
{
    const std::string& name = *reply.error;
    const Json& p = reply.parameters;
    auto text = [&](const char* key) {
        return p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : std::string{};
    };
    auto number = [&](const char* key, int fallback) {
        return p.contains(key) && p[key].is_number_integer() ? p[key].get<int>() : fallback;
    };
    if (name == "io.trueno.zram.NoSuchDevice")
        return make_error(ENODEV, errno_name(ENODEV));
    if (name == "io.trueno.zram.DeviceBusy") {
        const auto reason = text("reason");
        return make_error(EBUSY, errno_name(EBUSY) + (reason.empty() ? "" : " (" + reason + ")"));
    }
    if (name == "io.trueno.zram.InvalidArgument") {
        int code = number("errno", EINVAL);
        if (code <= 0)
            code = EINVAL;
        const auto reason = text("reason");
        return make_error(code, errno_name(code) + (reason.empty() ? "" : " (" + reason + ")"));
    }
    if (name == "io.trueno.zram.PermissionDenied" || name == "org.varlink.service.PermissionDenied")
        return make_error(EACCES, errno_name(EACCES) + " (only root may change trueno-zram devices)");
    if (name == "io.trueno.zram.SystemError") {
        int code = number("errno", EIO);
        if (code <= 0)
            code = EIO;
        const auto operation = text("operation");
        const auto reason = text("reason");
        std::string detail = operation;
        if (!reason.empty())
            detail += (detail.empty() ? "" : ": ") + reason;
        return make_error(code, errno_name(code) + (detail.empty() ? "" : " (" + detail + ")"));
    }
    if (name.rfind("org.varlink.service.", 0) == 0)
        return make_error(kDaemonUnreachable,
                          "trueno-zramd does not understand the request (" + name + "): is it a different version?");
    return make_error(EIO, "trueno-zramd error " + name + (p.empty() ? "" : " " + p.dump()));
}

Error protocol_error(const std::string& what)
{
    return make_error(kDaemonUnreachable, "unexpected reply from trueno-zramd: " + what);
}

Result<AttributeMap> attributes_from(const Json& j)
{
    if (!j.is_object())
        return protocol_error("attributes is not an object");
    AttributeMap out;
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string())
            return protocol_error("attribute " + key + " is not a string");
        out[key] = value.get<std::string>();
    }
    return out;
}

class VarlinkDaemonClient final : public DaemonClient {
public:
    explicit VarlinkDaemonClient(std::string path) : path_(std::move(path)) {}

    Result<std::vector<DeviceEntry>> list_devices() override
    {
        auto reply = call("ListDevices", Json::object());
        if (!reply)
            return reply.error();
        const Json& devices = (*reply)["devices"];
        if (!devices.is_array())
            return protocol_error("devices is not a list");
        std::vector<DeviceEntry> out;
        for (const auto& d : devices) {
            if (!d.is_object() || !d.contains("id") || !d["id"].is_number_integer() || !d.contains("name") ||
                !d["name"].is_string())
                return protocol_error("a device without id or name");
            DeviceEntry e;
            e.id = d["id"].get<int>();
            e.name = d["name"].get<std::string>();
            if (d.contains("attributes")) {
                auto attrs = attributes_from(d["attributes"]);
                if (!attrs)
                    return attrs.error();
                e.attributes = std::move(*attrs);
            }
            out.push_back(std::move(e));
        }
        return out;
    }

    Result<AttributeMap> attributes(int id) override
    {
        auto reply = call("GetAttributes", Json{{"id", id}});
        if (!reply)
            return reply.error();
        if (!reply->contains("attributes"))
            return protocol_error("no attributes");
        return attributes_from((*reply)["attributes"]);
    }

    Result<CreatedDevice> create_device(const CreateRequest& r) override
    {
        Json params{{"size", r.size}};
        if (r.algorithm)
            params["algorithm"] = *r.algorithm;
        if (r.params)
            params["params"] = *r.params;
        if (r.id)
            params["id"] = *r.id;
        if (r.streams)
            params["streams"] = *r.streams;
        auto reply = call("CreateDevice", params);
        if (!reply)
            return reply.error();
        if (!reply->contains("id") || !(*reply)["id"].is_number_integer() || !reply->contains("name") ||
            !(*reply)["name"].is_string())
            return protocol_error("CreateDevice reply without id or name");
        return CreatedDevice{(*reply)["id"].get<int>(), (*reply)["name"].get<std::string>()};
    }

    Status remove_device(int id) override
    {
        auto reply = call("RemoveDevice", Json{{"id", id}});
        if (!reply)
            return reply.error();
        return {};
    }

    Status set_attribute(int id, const std::string& name, const std::string& value) override
    {
        auto reply = call("SetAttribute", Json{{"id", id}, {"name", name}, {"value", value}});
        if (!reply)
            return reply.error();
        return {};
    }

private:
    // The reply's parameters, or the error as the user should read it.
    Result<Json> call(const std::string& method, const Json& params)
    {
        if (!client_) {
            auto connected = varlink::Client::connect(path_);
            if (!connected)
                return connect_error(connected.error().code);
            client_.emplace(std::move(*connected));
        }
        auto reply = client_->call(kInterface + method, params);
        if (!reply) {
            client_.reset(); // a transport failure leaves the connection unusable
            return make_error(kDaemonUnreachable,
                              "lost the connection to trueno-zramd at " + path_ + ": " + reply.error().message);
        }
        if (reply->is_error())
            return from_varlink_error(*reply);
        return reply->parameters;
    }

    Error connect_error(int code) const
    {
        std::string msg = "cannot connect to trueno-zramd at " + path_ + ": " + errno_name(code);
        if (code == EACCES || code == EPERM)
            msg += " (permission denied: run as root or get access to the socket)";
        else
            msg += "; start it with 'systemctl start trueno-zramd.socket' or run trueno-zramd";
        return make_error(kDaemonUnreachable, msg);
    }

    std::string path_;
    std::optional<varlink::Client> client_;
};

} // namespace

std::unique_ptr<DaemonClient> make_varlink_client(std::string socket_path)
{
    return std::make_unique<VarlinkDaemonClient>(std::move(socket_path));
}

} // namespace trueno::zramctl
