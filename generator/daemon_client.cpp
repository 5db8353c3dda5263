#include "daemon_client.hpp"

#include <chrono>

namespace trueno::generator {
namespace {

// A varlink error reply as an Error with the errno a caller can act on.
Error to_error(const std::string& method, const varlink::Reply& reply)
{
    const auto& p = reply.parameters;
    std::string name = *reply.error;
    std::string short_name = name.substr(name.rfind('.') + 1);
    std::string reason = p.contains("reason") && p["reason"].is_string() ? p["reason"].get<std::string>() : "";
    int code = EIO;
    if (short_name == "NoSuchDevice") code = ENODEV;
    else if (short_name == "DeviceBusy") code = EBUSY;
    else if (short_name == "PermissionDenied") code = EPERM;
    else if (short_name == "InvalidArgument" || short_name == "InvalidParameter") code = EINVAL;
    if (p.contains("errno") && p["errno"].is_number_integer() && p["errno"].get<int>() > 0) code = p["errno"].get<int>();
    std::string message = method + ": " + short_name;
    if (p.contains("name") && p["name"].is_string()) message += " (" + p["name"].get<std::string>() + ")";
    if (p.contains("parameter") && p["parameter"].is_string()) message += " (parameter " + p["parameter"].get<std::string>() + ")";
    if (!reason.empty()) message += ": " + reason;
    return make_error(code, message);
}

} // namespace

Result<std::unique_ptr<DaemonClient>> DaemonClient::connect(const std::string& socket_path)
{
    auto client = varlink::Client::connect(socket_path, std::chrono::seconds(10));
    if (!client) return make_error(client.error().code, "cannot reach trueno-zramd at " + socket_path + ": " + client.error().message);
    return std::unique_ptr<DaemonClient>(new DaemonClient(std::move(*client)));
}

Result<varlink::Json> DaemonClient::call(const std::string& method, const varlink::Json& parameters)
{
    // Creating a device allocates and starts ublk queues: allow it time on a loaded machine.
    auto reply = client_.call("io.trueno.zram." + method, parameters, std::chrono::seconds(60));
    if (!reply) return make_error(reply.error().code, method + ": " + reply.error().message);
    if (reply->is_error()) return to_error(method, *reply);
    return reply->parameters;
}

Result<std::vector<std::string>> DaemonClient::algorithms()
{
    auto r = call("GetDaemonInfo", varlink::Json::object());
    if (!r) return r.error();
    std::vector<std::string> out;
    try {
        for (const auto& a : r->at("algorithms")) out.push_back(a.get<std::string>());
    } catch (const varlink::Json::exception& e) {
        return make_error(EPROTO, std::string("GetDaemonInfo: unexpected reply: ") + e.what());
    }
    return out;
}

Result<std::vector<DaemonDevice>> DaemonClient::list_devices()
{
    auto r = call("ListDevices", varlink::Json::object());
    if (!r) return r.error();
    std::vector<DaemonDevice> out;
    try {
        for (const auto& d : r->at("devices")) {
            DaemonDevice dev;
            dev.id = d.at("id").get<int>();
            dev.name = d.at("name").get<std::string>();
            if (d.contains("attributes"))
                dev.attributes = d.at("attributes").get<std::map<std::string, std::string>>();
            out.push_back(std::move(dev));
        }
    } catch (const varlink::Json::exception& e) {
        return make_error(EPROTO, std::string("ListDevices: unexpected reply: ") + e.what());
    }
    return out;
}

Result<int> DaemonClient::create_device(const CreateRequest& request)
{
    varlink::Json p = {{"size", request.size}, {"mem_limit", request.mem_limit}, {"id", request.id}};
    if (!request.algorithm.empty()) p["algorithm"] = request.algorithm;
    if (!request.params.empty()) p["params"] = request.params;
    auto r = call("CreateDevice", p);
    if (!r) return r.error();
    if (!r->contains("id") || !(*r)["id"].is_number_integer()) return make_error(EPROTO, "CreateDevice: reply without id");
    return (*r)["id"].get<int>();
}

Status DaemonClient::set_attribute(int id, const std::string& name, const std::string& value)
{
    auto r = call("SetAttribute", {{"id", id}, {"name", name}, {"value", value}});
    if (!r) return r.error();
    return {};
}

Status DaemonClient::remove_device(int id)
{
    auto r = call("RemoveDevice", {{"id", id}});
    if (!r) return r.error();
    return {};
}

} // namespace trueno::generator
