#include "trueno/zram_client/client.hpp"

#include <cerrno>
#include <utility>

namespace trueno::zram_client {

namespace {

using varlink::Json;

constexpr const char* interface_prefix = "io.trueno.zram.";

CallError failure(Failure kind, int code, const std::string& method, std::string message) {
    CallError e;
    e.failure = kind;
    e.code = code;
    e.method = method;
    e.message = std::move(message);
    return e;
}

CallError bad_reply(const std::string& method, const std::string& what) {
    return failure(Failure::bad_reply, EPROTO, method, what);
}

CallResult<Attributes> attributes_from(const std::string& method, const Json& j) {
    if (!j.is_object())
        return bad_reply(method, "attributes is not an object");
    Attributes out;
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string())
            return bad_reply(method, "attribute " + key + " is not a string");
        out[key] = value.get<std::string>();
    }
    return out;
}

bool has_int(const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_number_integer();
}

bool has_string(const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string();
}

} // namespace

Client::Client(std::string socket_path, Timeouts timeouts)
    : socket_path_(std::move(socket_path)), timeouts_(timeouts) {}

CallResult<void> Client::connect() {
    if (connection_ && connection_->is_open())
        return {};
    connection_.reset();
    auto connected = varlink::Client::connect(socket_path_, timeouts_.connect);
    if (!connected)
        return failure(Failure::unreachable, connected.error().code, "", connected.error().message);
    connection_.emplace(std::move(*connected));
    return {};
}

CallResult<Json> Client::call(const std::string& method, const Json& parameters) {
    if (auto c = connect(); !c) {
        auto e = c.error();
        e.method = method;
        return e;
    }
    auto reply = connection_->call(interface_prefix + method, parameters, timeouts_.call);
    if (!reply) {
        connection_.reset(); // unusable after a transport failure
        return failure(Failure::lost, reply.error().code, method, reply.error().message);
    }
    if (reply->is_error())
        return refusal(method, *reply);
    return std::move(reply->parameters);
}

CallResult<std::vector<Device>> Client::list_devices() {
    const std::string method = "ListDevices";
    auto reply = call(method, Json::object());
    if (!reply)
        return reply.error();
    if (!reply->contains("devices") || !(*reply)["devices"].is_array())
        return bad_reply(method, "devices is not a list");
    std::vector<Device> out;
    for (const auto& d : (*reply)["devices"]) {
        if (!has_int(d, "id") || !has_string(d, "name"))
            return bad_reply(method, "a device without id or name");
        Device device;
        device.id = d["id"].get<int>();
        device.name = d["name"].get<std::string>();
        if (d.contains("attributes")) {
            auto attributes = attributes_from(method, d["attributes"]);
            if (!attributes)
                return attributes.error();
            device.attributes = std::move(*attributes);
        }
        out.push_back(std::move(device));
    }
    return out;
}

CallResult<Attributes> Client::attributes(int id) {
    const std::string method = "GetAttributes";
    auto reply = call(method, Json{{"id", id}});
    if (!reply)
        return reply.error();
    if (!reply->contains("attributes"))
        return bad_reply(method, "no attributes");
    return attributes_from(method, (*reply)["attributes"]);
}

CallResult<CreatedDevice> Client::create_device(const CreateDeviceRequest& request) {
    const std::string method = "CreateDevice";
    Json parameters{{"size", request.size}};
    if (request.algorithm)
        parameters["algorithm"] = *request.algorithm;
    if (request.params)
        parameters["params"] = *request.params;
    if (request.mem_limit)
        parameters["mem_limit"] = *request.mem_limit;
    if (request.id)
        parameters["id"] = *request.id;
    if (request.streams)
        parameters["streams"] = *request.streams;
    auto reply = call(method, parameters);
    if (!reply)
        return reply.error();
    if (!has_int(*reply, "id"))
        return bad_reply(method, "a reply without id");
    return CreatedDevice{(*reply)["id"].get<int>(),
                         has_string(*reply, "name") ? (*reply)["name"].get<std::string>() : ""};
}

CallResult<void> Client::remove_device(int id) {
    auto reply = call("RemoveDevice", Json{{"id", id}});
    if (!reply)
        return reply.error();
    return {};
}

CallResult<void> Client::set_attribute(int id, const std::string& name, const std::string& value) {
    auto reply = call("SetAttribute", Json{{"id", id}, {"name", name}, {"value", value}});
    if (!reply)
        return reply.error();
    return {};
}

CallResult<DaemonInfo> Client::daemon_info() {
    const std::string method = "GetDaemonInfo";
    auto reply = call(method, Json::object());
    if (!reply)
        return reply.error();
    if (!reply->contains("algorithms") || !(*reply)["algorithms"].is_array())
        return bad_reply(method, "algorithms is not a list");
    DaemonInfo info;
    for (const auto& a : (*reply)["algorithms"]) {
        if (!a.is_string())
            return bad_reply(method, "an algorithm name that is not a string");
        info.algorithms.push_back(a.get<std::string>());
    }
    if (has_string(*reply, "version"))
        info.version = (*reply)["version"].get<std::string>();
    if (reply->contains("ublk_features") && (*reply)["ublk_features"].is_number_unsigned())
        info.ublk_features = (*reply)["ublk_features"].get<std::uint64_t>();
    if (reply->contains("user_copy") && (*reply)["user_copy"].is_boolean())
        info.user_copy = (*reply)["user_copy"].get<bool>();
    return info;
}

} // namespace trueno::zram_client
