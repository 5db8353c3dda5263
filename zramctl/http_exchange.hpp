// The least of HTTP/1.x that trueno-zramctl --metrics --http needs to answer one scrape on a
// socket-activated connection (trueno-zram-metrics.socket, Accept=yes): read the request head,
// route it, write one response and close. No keep-alive, no request body.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::zramctl {

struct HttpRequest {
    std::string method;
    std::string path; // the target without its query string
};

// The request line of a head ("GET /metrics HTTP/1.1\r\nHost: ...\r\n\r\n"); EINVAL if it is
// not "METHOD TARGET HTTP/1.x".
Result<HttpRequest> parse_http_request(std::string_view head);

// What to answer: 200 for GET or HEAD of /metrics (or /), 404 for another path, 405 for
// another method, 400 for a malformed request.
enum class HttpRoute { Metrics, BadRequest, NotFound, MethodNotAllowed };
HttpRoute route_http_request(const Result<HttpRequest>& request);

// A whole response: status line, Content-Type, Content-Length, Connection: close, and the body
// unless head_only (HEAD: the headers say what GET would send).
std::string http_response(int status, std::string_view content_type, std::string_view body, bool head_only = false);

// Reads from fd up to the blank line that ends a request head: at most 16 KiB and timeout in
// all, so a client that sends nothing cannot hold the service. What was read, or an error.
Result<std::string> read_http_request_head(int fd, std::chrono::milliseconds timeout);

} // namespace trueno::zramctl
