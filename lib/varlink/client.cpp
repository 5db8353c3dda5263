// The varlink client: sends a call, waits for exactly one reply.
#include "trueno/varlink/client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include "trueno/varlink/socket.hpp"

namespace trueno::varlink {

namespace {

// Milliseconds left until deadline, for poll(); 0 once passed.
int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(std::min<long long>(left.count(), 1 << 30)) + 1 : 0;
}

Status wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r > 0) return {};
        if (r == 0) return make_error(ETIMEDOUT, "no reply from the service in time");
        if (errno != EINTR) return make_error(errno, "poll: " + errno_text(errno));
    }
}

} // namespace

Result<Client> Client::connect(const std::string& path, std::chrono::milliseconds timeout) {
    auto fd = connect_unix(path, timeout);
    if (!fd) return fd.error();
    return Client(std::move(*fd));
}

Client::Client(UniqueFd connected, std::size_t max_message_size)
    : fd_(std::move(connected)), reader_(max_message_size) {}

Status Client::send_all(const std::string& wire, std::chrono::steady_clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < wire.size()) {
        const ssize_t n = ::send(fd_.get(), wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) {
            const int err = errno == EPIPE ? ECONNRESET : errno;
            return make_error(err, "sending the call: " + errno_text(err));
        }
        if (auto w = wait_for(fd_.get(), POLLOUT, deadline); !w) return w;
    }
    return {};
}

Result<std::string> Client::receive_one(std::chrono::steady_clock::time_point deadline) {
    std::string buffer(64 * 1024, '\0');
    while (received_.empty()) {
        const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n == 0) return make_error(ECONNRESET, "the service closed the connection without replying");
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return make_error(errno, "reading the reply: " + errno_text(errno));
            if (auto w = wait_for(fd_.get(), POLLIN, deadline); !w) return w.error();
            continue;
        }
        if (auto fed = reader_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), received_); !fed)
            return make_error(E2BIG, "reply too large: " + fed.error().message);
    }
    std::string first = std::move(received_.front());
    received_.erase(received_.begin());
    return first;
}

Result<Reply> Client::call(const std::string& method, const Json& parameters, std::chrono::milliseconds timeout) {
    if (!fd_) return make_error(ENOTCONN, "the connection to the service was lost earlier");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Call c;
    c.method = method;
    c.parameters = parameters.is_null() ? Json::object() : parameters;
    const auto wire = frame(to_json(c).dump(-1, ' ', false, Json::error_handler_t::replace));
    auto result = [&]() -> Result<Reply> {
        if (auto s = send_all(wire, deadline); !s) return s.error();
        auto text = receive_one(deadline);
        if (!text) return text.error();
        auto reply = parse_reply(*text);
        if (!reply) return make_error(EPROTO, "malformed reply: " + reply.error().message);
        return reply;
    }();
    if (!result) fd_.reset();
    return result;
}

bool Client::is_open() const {
    if (!fd_)
        return false;
    pollfd p{fd_.get(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0)
        return true; // nothing happened to it
    if (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
        return false;
    // Readable with no call made: either the end of the stream or a stray message.
    char byte = 0;
    const ssize_t n = ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n != 0 && !(n < 0 && errno != EAGAIN && errno != EINTR);
}

Status Client::send_oneway(const std::string& method, const Json& parameters) {
    if (!fd_) return make_error(ENOTCONN, "the connection to the service was lost earlier");
    Call c;
    c.method = method;
    c.parameters = parameters.is_null() ? Json::object() : parameters;
    c.oneway = true;
    auto s = send_all(frame(to_json(c).dump(-1, ' ', false, Json::error_handler_t::replace)),
                      std::chrono::steady_clock::now() + std::chrono::seconds(30));
    if (!s) fd_.reset();
    return s;
}

} // namespace trueno::varlink
