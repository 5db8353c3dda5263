// Parsing and serialising varlink calls and replies.
#include "trueno/varlink/message.hpp"

#include <algorithm>
#include <string>

namespace trueno::varlink {

namespace {

// How deeply arrays and objects nest in text, counted outside strings; stops counting once
// past limit. Well-formed or not: the parser judges the rest.
std::size_t nesting_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size() && deepest <= limit; ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i; // the escaped character, whatever it is
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

Result<Json> parse_object(std::string_view text) {
    // Before parsing: nlohmann::json parses any depth, but copies, compares and serialises
    // values recursively, so a peer's 100000 nested arrays (200 KB, well within the message
    // size cap) overflowed the stack of the thread that copied them: the daemon's socket is
    // open to every user, so any of them could end it with one message.
    if (nesting_depth(text, max_nesting) > max_nesting)
        return make_error(EINVAL, "message nests arrays and objects more than " +
                                      std::to_string(max_nesting) + " deep");
    Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return make_error(EINVAL, "message is not valid JSON");
    if (!doc.is_object()) return make_error(EINVAL, "message is not a JSON object");
    return doc;
}

// Optional boolean flag: absent and null are false; anything but a boolean is an error.
Result<bool> flag(const Json& doc, const char* name) {
    const auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) return false;
    if (!it->is_boolean()) return make_error(EINVAL, std::string("\"") + name + "\" is not a boolean");
    return it->get<bool>();
}

Result<Json> parameters_of(const Json& doc) {
    const auto it = doc.find("parameters");
    if (it == doc.end() || it->is_null()) return Json::object();
    if (!it->is_object()) return make_error(EINVAL, "\"parameters\" is not an object");
    return *it;
}

} // namespace

Reply Reply::ok(Json parameters) {
    Reply r;
    r.parameters = std::move(parameters);
    return r;
}

Reply Reply::failure(std::string error_name, Json parameters) {
    Reply r;
    r.error = std::move(error_name);
    r.parameters = std::move(parameters);
    return r;
}

std::string interface_of(std::string_view method) {
    const auto dot = method.rfind('.');
    if (dot == std::string_view::npos) return {};
    return std::string(method.substr(0, dot));
}

Result<Call> parse_call(std::string_view text) {
    auto doc = parse_object(text);
    if (!doc) return doc.error();
    const auto method = doc->find("method");
    if (method == doc->end() || !method->is_string())
        return make_error(EINVAL, "call has no string \"method\"");
    Call call;
    call.method = method->get<std::string>();
    const auto dot = call.method.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == call.method.size())
        return make_error(EINVAL, "method \"" + call.method + "\" is not of the form interface.Method");
    auto params = parameters_of(*doc);
    if (!params) return params.error();
    call.parameters = std::move(*params);
    auto oneway = flag(*doc, "oneway");
    auto more = flag(*doc, "more");
    auto upgrade = flag(*doc, "upgrade");
    for (const auto* f : {&oneway, &more, &upgrade})
        if (!*f) return f->error();
    call.oneway = *oneway;
    call.more = *more;
    call.upgrade = *upgrade;
    return call;
}

Json to_json(const Call& call) {
    Json doc = {{"method", call.method}};
    if (!call.parameters.empty()) doc["parameters"] = call.parameters;
    if (call.oneway) doc["oneway"] = true;
    if (call.more) doc["more"] = true;
    if (call.upgrade) doc["upgrade"] = true;
    return doc;
}

Result<Reply> parse_reply(std::string_view text) {
    auto doc = parse_object(text);
    if (!doc) return doc.error();
    Reply reply;
    if (const auto err = doc->find("error"); err != doc->end() && !err->is_null()) {
        if (!err->is_string()) return make_error(EINVAL, "\"error\" is not a string");
        reply.error = err->get<std::string>();
    }
    auto params = parameters_of(*doc);
    if (!params) return params.error();
    reply.parameters = std::move(*params);
    auto continues = flag(*doc, "continues");
    if (!continues) return continues.error();
    reply.continues = *continues;
    return reply;
}

Json to_json(const Reply& reply) {
    Json doc = Json::object();
    if (reply.error) doc["error"] = *reply.error;
    doc["parameters"] = reply.parameters.is_null() ? Json::object() : reply.parameters;
    if (reply.continues) doc["continues"] = true;
    return doc;
}

Reply invalid_parameter(std::string_view parameter) {
    return Reply::failure(errors::invalid_parameter, {{"parameter", std::string(parameter)}});
}

} // namespace trueno::varlink
