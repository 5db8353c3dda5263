#include "process_maps.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "unique_fd.hpp"

namespace trueno::bench {
namespace {

// Splits off the next space-separated field (maps pads the name column with spaces).
std::string_view next_field(std::string_view& rest) {
    std::size_t begin = rest.find_first_not_of(' ');
    if (begin == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(begin);
    std::size_t end = rest.find(' ');
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return field;
}

bool parse_number(std::string_view text, std::uint64_t& value, int base) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

} // namespace

Result<Mapping> parse_maps_line(std::string_view line) {
    auto bad = [&](const char* what) {
        return make_error(EINVAL, "unexpected line in maps (" + std::string(what) +
                                      "): " + std::string(line));
    };
    std::string_view rest = line;
    std::string_view range = next_field(rest);
    std::string_view perms = next_field(rest);
    next_field(rest); // offset
    next_field(rest); // device
    std::string_view inode = next_field(rest);

    Mapping m;
    std::size_t dash = range.find('-');
    if (dash == std::string_view::npos || !parse_number(range.substr(0, dash), m.start, 16) ||
        !parse_number(range.substr(dash + 1), m.end, 16) || m.end < m.start)
        return bad("address range");
    if (perms.size() != 4) return bad("permissions");
    if (!parse_number(inode, m.inode, 10)) return bad("inode");
    m.perms = perms;
    std::size_t name_begin = rest.find_first_not_of(' ');
    if (name_begin != std::string_view::npos) m.name = rest.substr(name_begin);
    return m;
}

bool is_anonymous_private(const Mapping& mapping) {
    if (mapping.perms[0] != 'r' || mapping.perms[3] != 'p') return false;
    if (mapping.inode != 0) return false; // file-backed (also memfd and SysV shm)
    const std::string& name = mapping.name;
    if (name.empty() || name == "[heap]") return true;
    // [stack] and, on older kernels, [stack:TID]; [anon:NAME] is a mapping named by prctl.
    return name.starts_with("[stack") || name.starts_with("[anon:");
}

Result<std::vector<Mapping>> read_process_maps(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/maps";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        return make_error(err, path + ": " + std::strerror(err));
    }
    // The kernel builds the text as it is read: read it whole before parsing.
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            return make_error(err, path + ": read: " + std::strerror(err));
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    std::vector<Mapping> mappings;
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t eol = rest.find('\n');
        std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
        if (line.empty()) continue;
        auto m = parse_maps_line(line);
        if (!m) return m.error();
        mappings.push_back(std::move(*m));
    }
    return mappings;
}

} // namespace trueno::bench
