// varlink framing: every message is one JSON text followed by a NUL byte on a stream socket.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::varlink {

// The largest message either side accepts; a peer sending more is cut off.
inline constexpr std::size_t default_max_message_size = 1024 * 1024;

// Splits a byte stream at NUL bytes into whole messages, however the bytes arrive.
class MessageReader {
public:
    explicit MessageReader(std::size_t max_message_size = default_max_message_size)
        : max_size_(max_message_size) {}

    // Adds received bytes and moves every completed message into out. E2BIG once a message
    // (complete or still arriving) exceeds the cap: the stream cannot be resynchronised, so the
    // caller must close the connection. Messages completed before the oversized one are kept.
    Status feed(std::string_view bytes, std::vector<std::string>& out);

    // Bytes of a message still incomplete.
    std::size_t pending() const { return partial_.size(); }

private:
    std::size_t max_size_;
    std::string partial_;
};

// The wire form of one message: the text and its terminating NUL.
std::string frame(std::string_view json_text);

} // namespace trueno::varlink
