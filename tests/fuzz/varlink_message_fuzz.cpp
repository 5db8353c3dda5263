// Fuzz target: varlink message parsing (lib/varlink/message.cpp), the first thing the daemon
// does with a peer's bytes. The input is one message text; parse_call and parse_reply must
// either refuse it with EINVAL or accept something that satisfies their contract, and what
// they accepted must serialise (as the server and client do) and parse back to the same.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "trueno/varlink/message.hpp"

using trueno::fuzz::check;
namespace varlink = trueno::varlink;

namespace {

std::string wire_text(const varlink::Json& doc) {
    // As the server serialises replies: text that is not UTF-8 is replaced, never thrown.
    return doc.dump(-1, ' ', false, varlink::Json::error_handler_t::replace);
}

void check_call(std::string_view text) {
    const auto call = varlink::parse_call(text);
    if (!call) {
        check(call.error().code == EINVAL, "parse_call refuses with EINVAL");
        return;
    }
    const auto dot = call->method.rfind('.');
    check(dot != std::string::npos && dot != 0 && dot + 1 != call->method.size(),
          "an accepted method is interface.Method");
    check(!varlink::interface_of(call->method).empty(), "an accepted method has an interface");
    check(call->parameters.is_object(), "accepted parameters are an object");
    const auto again = varlink::parse_call(wire_text(varlink::to_json(*call)));
    check(again.ok(), "a serialised call parses");
    check(again->method == call->method && again->parameters == call->parameters &&
              again->oneway == call->oneway && again->more == call->more &&
              again->upgrade == call->upgrade,
          "a call survives serialising and parsing");
}

void check_reply(std::string_view text) {
    const auto reply = varlink::parse_reply(text);
    if (!reply) {
        check(reply.error().code == EINVAL, "parse_reply refuses with EINVAL");
        return;
    }
    check(reply->parameters.is_object(), "accepted reply parameters are an object");
    const auto again = varlink::parse_reply(wire_text(varlink::to_json(*reply)));
    check(again.ok(), "a serialised reply parses");
    check(again->error == reply->error && again->parameters == reply->parameters &&
              again->continues == reply->continues,
          "a reply survives serialising and parsing");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_call(text);
    check_reply(text);
    return 0;
}
