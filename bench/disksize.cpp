#include "disksize.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <string>

namespace trueno::bench {

Result<std::uint64_t> parse_disksize(std::string_view text) {
    if (text == "auto") return std::uint64_t{0};
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::string_view rest(end, static_cast<std::size_t>(text.data() + text.size() - end));
    auto bad = [&] {
        return make_error(EINVAL, "invalid --disksize '" + std::string(text) +
                                      "': expected 'auto' or a size such as 4294967296, 512M, 4G");
    };
    if (ec != std::errc{} || end == text.data()) return bad();
    unsigned shift = 0;
    if (rest.size() == 1) {
        switch (std::toupper(static_cast<unsigned char>(rest[0]))) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: return bad();
        }
    } else if (!rest.empty()) {
        return bad();
    }
    if (value == 0) return make_error(EINVAL, "--disksize must be greater than 0");
    if (shift && value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return make_error(EINVAL, "--disksize '" + std::string(text) + "' is too large");
    return value << shift;
}

} // namespace trueno::bench
