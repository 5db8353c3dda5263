// varlink messages: a call as received by a service, and the reply it sends back.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "trueno/result.hpp"

namespace trueno::varlink {

using Json = nlohmann::json;

// A method call, {"method": "iface.Method", "parameters": {...}, "oneway"|"more"|"upgrade": true}.
struct Call {
    std::string method;      // fully qualified: "io.trueno.zram.ListDevices"
    Json parameters = Json::object();
    bool oneway = false;     // the caller wants no reply
    bool more = false;       // the caller accepts several replies
    bool upgrade = false;    // the caller wants to leave varlink after the reply
};

// A reply or an error, {"parameters": {...}} or {"error": "iface.Name", "parameters": {...}}.
struct Reply {
    std::optional<std::string> error; // set: this is an error reply with that name
    Json parameters = Json::object();
    bool continues = false;           // more replies follow (only for calls with "more")

    static Reply ok(Json parameters = Json::object());
    static Reply failure(std::string error_name, Json parameters = Json::object());
    bool is_error() const { return error.has_value(); }
};

// The deepest nesting of arrays and objects a received message may have (the message itself
// is depth 1). io.trueno.zram's deepest is 5 (a ListDevices reply); refusing deeper ones keeps
// every later use of the value (copy, compare, serialise: all recursive) within a small stack.
inline constexpr std::size_t max_nesting = 64;

// Parses one received call. EINVAL with the reason for text that is not JSON, not an object,
// or lacks a string "method" of the form "interface.Method"; for parameters that are present
// but not an object; for flags that are not booleans; for nesting deeper than max_nesting.
Result<Call> parse_call(std::string_view text);
Json to_json(const Call& call);

// Parses one received reply (the client side); EINVAL for anything malformed, and for nesting
// deeper than max_nesting.
Result<Reply> parse_reply(std::string_view text);
Json to_json(const Reply& reply);

// "io.trueno.zram.ListDevices" -> "io.trueno.zram"; empty when there is no dot.
std::string interface_of(std::string_view method);

// The standard errors of the org.varlink.service interface.
namespace errors {
inline constexpr const char* interface_not_found = "org.varlink.service.InterfaceNotFound";
inline constexpr const char* method_not_found = "org.varlink.service.MethodNotFound";
inline constexpr const char* method_not_implemented = "org.varlink.service.MethodNotImplemented";
inline constexpr const char* invalid_parameter = "org.varlink.service.InvalidParameter";
inline constexpr const char* permission_denied = "org.varlink.service.PermissionDenied";
inline constexpr const char* expected_more = "org.varlink.service.ExpectedMore";
} // namespace errors

Reply invalid_parameter(std::string_view parameter);

} // namespace trueno::varlink
