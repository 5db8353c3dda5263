// Fuzz target: the request head trueno-zramctl --metrics --http reads from whoever connects to
// trueno-zram-metrics.socket (zramctl/http_exchange.cpp). Any bytes give a request or EINVAL; a
// parsed request's method and path are pieces of its request line, the path without a query;
// the route of a failed parse is 400 and of a parsed one never 400.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "http_exchange.hpp"

using trueno::fuzz::check;
using trueno::zramctl::HttpRoute;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view head(reinterpret_cast<const char*>(data), size);
    const auto request = trueno::zramctl::parse_http_request(head);
    const HttpRoute route = trueno::zramctl::route_http_request(request);
    if (!request) {
        check(request.error().code == EINVAL, "a bad request head is EINVAL");
        check(route == HttpRoute::BadRequest, "a bad request head is routed to 400");
        return 0;
    }
    check(route != HttpRoute::BadRequest, "a parsed request is not routed to 400");
    const std::string_view line = head.substr(0, head.find('\n'));
    check(!request->method.empty() && line.find(request->method) == 0, "the method starts the line");
    check(request->method.find(' ') == std::string_view::npos, "the method has no space");
    check(request->path.find('?') == std::string_view::npos, "the path has no query");
    check(line.find(request->path) != std::string_view::npos, "the path comes from the line");
    if (route == HttpRoute::Metrics)
        check((request->method == "GET" || request->method == "HEAD") &&
                  (request->path == "/metrics" || request->path == "/"),
              "only GET or HEAD of /metrics or / is served");
    return 0;
}
