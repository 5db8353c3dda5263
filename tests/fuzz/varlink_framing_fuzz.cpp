// Fuzz target: varlink framing (lib/varlink/framing.cpp). A byte stream arrives in pieces of
// arbitrary sizes at a MessageReader with a small cap, as from a peer on the socket; what it
// delivers must be exactly what a plain split of the whole stream at NUL bytes gives: the same
// messages, E2BIG at the first message longer than the cap (complete or not) and nothing after
// it, and the unfinished tail as pending(). frame() of each message reads back as that message.
//
// Input: byte 0 sets the cap (1..64), byte 1 seeds the piece sizes, the rest is the stream.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "trueno/varlink/framing.hpp"

using trueno::fuzz::check;

namespace {

struct Expected {
    std::vector<std::string> messages;
    bool overflow = false;
    std::size_t pending = 0;
};

Expected split(std::string_view stream, std::size_t cap) {
    Expected e;
    std::size_t start = 0;
    for (;;) {
        const auto nul = stream.find('\0', start);
        const std::size_t end = nul == std::string_view::npos ? stream.size() : nul;
        if (end - start > cap) {
            e.overflow = true;
            return e;
        }
        if (nul == std::string_view::npos) {
            e.pending = end - start;
            return e;
        }
        e.messages.emplace_back(stream.substr(start, end - start));
        start = nul + 1;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2)
        return 0;
    const std::size_t cap = 1 + data[0] % 64;
    std::uint32_t seed = data[1] * 2654435761u + 1;
    const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
    const Expected expected = split(stream, cap);

    trueno::varlink::MessageReader reader(cap);
    std::vector<std::string> got;
    bool overflow = false;
    for (std::size_t pos = 0; pos < stream.size() && !overflow;) {
        seed = seed * 1103515245u + 12345u;
        const std::size_t piece = 1 + (seed >> 16) % (2 * cap + 3);
        const auto status = reader.feed(stream.substr(pos, piece), got);
        if (!status) {
            check(status.error().code == E2BIG, "feed fails only with E2BIG");
            overflow = true;
        }
        pos += piece;
    }
    check(overflow == expected.overflow, "E2BIG exactly when a message exceeds the cap");
    check(got == expected.messages, "the messages of a plain split, in order");
    if (!overflow)
        check(reader.pending() == expected.pending, "pending() is the unfinished tail");
    for (const auto& message : got) {
        check(message.size() <= cap, "no message longer than the cap");
        const std::string wire = trueno::varlink::frame(message);
        check(wire.size() == message.size() + 1 && wire.back() == '\0', "frame adds one NUL");
        trueno::varlink::MessageReader again(cap);
        std::vector<std::string> back;
        check(again.feed(wire, back).ok() && back.size() == 1 && back[0] == message &&
                  again.pending() == 0,
              "a framed message reads back as itself");
    }
    return 0;
}
