#include "http_exchange.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trueno::zramctl {
namespace {

constexpr std::size_t kMaxHead = 16 * 1024;

std::string_view reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 503:
        return "Service Unavailable";
    }
    return "Error";
}

bool head_complete(const std::string& s) {
    return s.find("\r\n\r\n") != std::string::npos || s.find("\n\n") != std::string::npos;
}

} // namespace

Result<HttpRequest> parse_http_request(std::string_view head) {
    const auto eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    const auto first = line.find(' ');
    const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (first == 0 || first == std::string_view::npos || second == std::string_view::npos || second == first + 1)
        return make_error(EINVAL, "malformed request line");
    const auto version = line.substr(second + 1);
    if (version.rfind("HTTP/1.", 0) != 0 || version.size() != 8)
        return make_error(EINVAL, "not an HTTP/1.x request");
    HttpRequest request;
    request.method = std::string(line.substr(0, first));
    const auto target = line.substr(first + 1, second - first - 1);
    request.path = std::string(target.substr(0, target.find('?')));
    return request;
}

HttpRoute route_http_request(const Result<HttpRequest>& request) {
    if (!request)
        return HttpRoute::BadRequest;
    if (request->path != "/metrics" && request->path != "/")
        return HttpRoute::NotFound;
    if (request->method != "GET" && request->method != "HEAD")
        return HttpRoute::MethodNotAllowed;
    return HttpRoute::Metrics;
}

std::string http_response(int status, std::string_view content_type, std::string_view body, bool head_only) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
    out += "Content-Type: " + std::string(content_type) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (status == 405)
        out += "Allow: GET, HEAD\r\n";
    out += "Connection: close\r\n\r\n";
    if (!head_only)
        out += body;
    return out;
}

Result<std::string> read_http_request_head(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string head;
    char buf[2048];
    while (!head_complete(head)) {
        if (head.size() >= kMaxHead)
            return make_error(E2BIG, "request head longer than 16 KiB");
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return make_error(ETIMEDOUT, "no complete request within " + std::to_string(timeout.count()) + " ms");
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return make_error(errno, std::string("poll: ") + std::strerror(errno));
        if (ready == 0)
            continue; // the deadline check above ends it
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(errno, std::string("read: ") + std::strerror(errno));
        if (n == 0)
            return make_error(ECONNRESET, "connection closed before the request head ended");
        head.append(buf, static_cast<std::size_t>(n));
    }
    return head;
}

} // namespace trueno::zramctl
