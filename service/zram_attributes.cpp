// Kernel zram's sysfs attributes over a page store. Formats and errors follow
// drivers/block/zram/zram_drv.c for a device that is initialised (a ublk device always is:
// its size is fixed when it starts), so everything that needs an uninitialised device is EBUSY.
#include "zram_attributes.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "trueno/codec.hpp"
#include "trueno/stats.hpp"

namespace trueno::service {

namespace {

constexpr std::uint64_t page_size = 4096;
constexpr std::size_t max_algorithm_name = 64;  // the kernel's ZRAM_MAX_ALGO_NAME_SZ
constexpr int max_priority = 3;                 // priorities 1..3 are recompression algorithms
constexpr std::uint64_t huge_class_size = 3632; // zsmalloc's huge class with 8-page zspages

// sysfs hands the store function the text including the newline echo adds.
std::string_view strip_newline(std::string_view v) {
    if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
    return v;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
}

// Base 0 as the kernel's simple_strtoull: 0x hex, leading 0 octal, else decimal. Returns the
// value, how many characters were used (0: none) and whether it overflowed.
struct ParsedNumber {
    std::uint64_t value = 0;
    std::size_t used = 0;
    bool overflow = false;
};

ParsedNumber parse_auto_base(std::string_view text) {
    int base = 10;
    std::size_t start = 0;
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && text.size() > 2 &&
        std::isxdigit(static_cast<unsigned char>(text[2]))) {
        base = 16;
        start = 2;
    } else if (text.size() >= 2 && text[0] == '0') {
        base = 8;
    }
    ParsedNumber n;
    const auto* first = text.data() + start;
    const auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), n.value, base);
    if (ptr == first) return n; // nothing parsed
    n.used = static_cast<std::size_t>(ptr - text.data());
    n.overflow = ec == std::errc::result_out_of_range;
    return n;
}

// kstrtoull/kstrtoint: the whole text (one trailing newline allowed) is a number, else EINVAL;
// ERANGE when it does not fit.
template <typename T> Result<T> kstrto(std::string_view text, int base) {
    text = strip_newline(text);
    bool negative = false;
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    else if (std::is_signed_v<T> && !text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    std::uint64_t magnitude = 0;
    bool overflow = false;
    if (base == 0) {
        auto n = parse_auto_base(text);
        if (n.used == 0 || n.used != text.size()) return make_error(EINVAL, "'" + std::string(text) + "' is not a number");
        magnitude = n.value;
        overflow = n.overflow;
    } else {
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
        if (text.empty() || ptr != text.data() + text.size() ||
            (ec != std::errc{} && ec != std::errc::result_out_of_range))
            return make_error(EINVAL, "'" + std::string(text) + "' is not a number");
        overflow = ec == std::errc::result_out_of_range;
    }
    using Limits = std::numeric_limits<T>;
    const std::uint64_t limit = negative ? static_cast<std::uint64_t>(Limits::max()) + 1
                                         : static_cast<std::uint64_t>(Limits::max());
    if (overflow || magnitude > limit)
        return make_error(ERANGE, "'" + std::string(text) + "' is out of range");
    if (negative) return static_cast<T>(-static_cast<std::int64_t>(magnitude));
    return static_cast<T>(magnitude);
}

// The kernel's memparse: a number (base 0) with an optional K/M/G/T/P/E suffix (powers of
// 1024). The kernel ignores whatever follows; here only white space may, so a typo such as
// "1GB" is an error rather than silently 1G.
Result<std::uint64_t> memparse(std::string_view text) {
    text = trim(text);
    auto n = parse_auto_base(text);
    if (n.used == 0) return make_error(EINVAL, "'" + std::string(text) + "' is not a size (bytes, or with K, M, G suffix)");
    if (n.overflow) return make_error(ERANGE, "'" + std::string(text) + "' is too large");
    auto rest = text.substr(n.used);
    unsigned shift = 0;
    if (!rest.empty()) {
        switch (rest.front()) {
        case 'E': case 'e': shift = 60; break;
        case 'P': case 'p': shift = 50; break;
        case 'T': case 't': shift = 40; break;
        case 'G': case 'g': shift = 30; break;
        case 'M': case 'm': shift = 20; break;
        case 'K': case 'k': shift = 10; break;
        default: break;
        }
        if (shift != 0) rest.remove_prefix(1);
    }
    if (!rest.empty())
        return make_error(EINVAL, "'" + std::string(text) + "' is not a size (bytes, or with K, M, G suffix)");
    if (shift != 0 && n.value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return make_error(ERANGE, "'" + std::string(text) + "' is too large");
    return n.value << shift;
}

// "key=value key2=value2" as the kernel's next_arg splits it: white space between pairs,
// double quotes around a value allowed. Every pair needs a non-empty value (the kernel's
// EINVAL for "key" or "key=").
struct Arg {
    std::string key;
    std::string value;
};

Result<std::vector<Arg>> split_args(std::string_view text) {
    std::vector<Arg> args;
    std::size_t pos = 0;
    while (true) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        if (pos >= text.size()) break;
        std::size_t end = pos;
        bool quoted = false;
        while (end < text.size() && (quoted || !std::isspace(static_cast<unsigned char>(text[end])))) {
            if (text[end] == '"') quoted = !quoted;
            ++end;
        }
        if (quoted) return make_error(EINVAL, "unbalanced quote in '" + std::string(text) + "'");
        std::string_view token = text.substr(pos, end - pos);
        pos = end;
        const auto eq = token.find('=');
        std::string key(token.substr(0, eq));
        std::string value;
        if (eq != std::string_view::npos) {
            for (char c : token.substr(eq + 1))
                if (c != '"') value += c;
        }
        if (value.empty()) return make_error(EINVAL, "'" + key + "' needs a value (" + key + "=...)");
        args.push_back({std::move(key), std::move(value)});
    }
    return args;
}

Error unknown_key(const std::string& key, const char* attribute, const char* known) {
    return make_error(EINVAL, "unknown " + std::string(attribute) + " parameter '" + key + "' (known: " + known + ")");
}

std::string uint_text(std::uint64_t v) { return std::to_string(v); }

std::string without_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

// comp_algorithm's text: every algorithm followed by a space, the current one in brackets.
std::string algorithm_list(const std::string& current) {
    std::string out;
    bool listed = false;
    for (const auto& info : available_codecs()) {
        if (info.name == current) {
            out += "[" + current + "] ";
            listed = true;
        } else {
            out += std::string(info.name) + " ";
        }
    }
    if (!listed) out += "[" + current + "] ";
    return out;
}

// Checks an algorithm name as __comp_algorithm_store does before it looks at the device.
Status check_algorithm_name(std::string_view name) {
    if (name.size() >= max_algorithm_name)
        return make_error(E2BIG, "algorithm name longer than " + std::to_string(max_algorithm_name - 1) + " bytes");
    if (!find_codec(name))
        return make_error(EINVAL, "unknown compression algorithm '" + std::string(name) +
                                      "'; available: " + available_codec_names());
    return {};
}

Error busy(const std::string& what) {
    return make_error(EBUSY, what + " cannot change once the device is initialised (a ublk device is "
                                    "initialised from its creation: give it to CreateDevice)");
}

enum class Access { read_only, write_only, read_write };

const std::vector<std::pair<std::string, Access>>& attribute_table() {
    static const std::vector<std::pair<std::string, Access>> table = {
        {"disksize", Access::read_write},
        {"initstate", Access::read_only},
        {"comp_algorithm", Access::read_write},
        {"algorithm_params", Access::write_only},
        {"mem_limit", Access::write_only},
        {"mem_used_max", Access::write_only},
        {"compact", Access::write_only},
        {"idle", Access::write_only},
        {"mm_stat", Access::read_only},
        {"io_stat", Access::read_only},
        {"debug_stat", Access::read_only},
        {"bd_stat", Access::read_only},
        {"backing_dev", Access::read_write},
        {"writeback", Access::write_only},
        {"writeback_limit", Access::read_write},
        {"writeback_limit_enable", Access::read_write},
        {"recomp_algorithm", Access::read_write},
        {"recompress", Access::write_only},
        {"max_comp_streams", Access::read_write},
    };
    return table;
}

std::optional<Access> access_of(const std::string& name) {
    for (const auto& [n, a] : attribute_table())
        if (n == name) return a;
    return std::nullopt;
}

} // namespace

ZramAttributes::ZramAttributes(std::shared_ptr<PageStore> store, StoreConfig config)
    : store_(std::move(store)), config_(std::move(config)) {}

AttributeMap ZramAttributes::read_all() const {
    AttributeMap map;
    for (const auto& [name, access] : attribute_table()) {
        if (access == Access::write_only) continue;
        auto value = read(name);
        if (value) map.emplace(name, std::move(*value));
    }
    return map;
}

Result<std::string> ZramAttributes::read(const std::string& name) const {
    const auto access = access_of(name);
    if (!access) return make_error(ENOENT, "no attribute '" + name + "'");
    if (*access == Access::write_only) return make_error(EACCES, name + " is write-only");
    std::lock_guard lock(mutex_);
    if (name == "disksize") return uint_text(store_->disksize());
    if (name == "initstate") return std::string("1");
    if (name == "comp_algorithm") return algorithm_list(store_->algorithm());
    if (name == "mm_stat") return without_newline(format_mm_stat(store_->mm_stat()));
    if (name == "io_stat") return without_newline(format_io_stat(store_->io_stat()));
    // The kernel's version 1 layout; the second line's last field counts slot frees missed
    // under contention, which this store never has (it waits for the slot).
    if (name == "debug_stat") {
        // The never-fault reserve is populated memory that holds no data, so mem_used_total
        // leaves it out; it is shown here, with the writes refused while it was empty.
        return std::string("version: 1\n0        0\nreserve_bytes ") +
               std::to_string(store_->reserve_bytes()) + "\nreserve_misses " +
               std::to_string(store_->reserve_misses());
    }
    if (name == "bd_stat") return std::string("       0        0        0"); // no backing device
    if (name == "backing_dev") return std::string("none");
    if (name == "writeback_limit" || name == "writeback_limit_enable") return std::string("0");
    if (name == "recomp_algorithm") return std::string(); // no secondary algorithm configured
    if (name == "max_comp_streams") return uint_text(store_->streams());
    return make_error(ENOENT, "no attribute '" + name + "'");
}

Status ZramAttributes::write(const std::string& name, const std::string& value) {
    if (name == "reset") return make_error(ENOENT, "reset is done by removing the device (RemoveDevice)");
    const auto access = access_of(name);
    if (!access) return make_error(ENOENT, "no attribute '" + name + "'");
    if (*access == Access::read_only) return make_error(EACCES, name + " is read-only");
    std::lock_guard lock(mutex_);

    if (name == "disksize") {
        auto size = memparse(value);
        if (!size) return size.error();
        if (*size == 0) return make_error(EINVAL, "disksize 0 is not a size");
        return busy("disksize");
    }
    if (name == "comp_algorithm") {
        if (auto ok = check_algorithm_name(strip_newline(value)); !ok) return ok;
        return busy("comp_algorithm");
    }
    if (name == "algorithm_params") {
        auto args = split_args(value);
        if (!args) return args.error();
        for (const auto& a : *args) {
            if (a.key == "priority" || a.key == "level" || a.key == "deflate.winbits") {
                if (auto n = kstrto<int>(a.value, 10); !n) return make_error(n.error().code, a.key + ": " + n.error().message);
                if (a.key == "priority") {
                    const int prio = *kstrto<int>(a.value, 10);
                    if (prio < 0 || prio > max_priority)
                        return make_error(EINVAL, "priority " + a.value + " is out of range (0.." + std::to_string(max_priority) + ")");
                }
            } else if (a.key == "algo") {
                if (auto ok = check_algorithm_name(a.value); !ok) return ok;
            } else if (a.key != "dict") {
                return unknown_key(a.key, "algorithm_params", "algo, priority, level, dict, deflate.winbits");
            }
        }
        return busy("algorithm_params");
    }
    if (name == "mem_limit") {
        auto limit = memparse(value);
        if (!limit) return limit.error();
        if (*limit > std::numeric_limits<std::uint64_t>::max() - (page_size - 1))
            return make_error(ERANGE, "mem_limit is too large");
        store_->set_mem_limit((*limit + page_size - 1) / page_size * page_size);
        return {};
    }
    if (name == "mem_used_max") {
        auto v = kstrto<std::uint64_t>(value, 10);
        if (!v || *v != 0) return make_error(EINVAL, "mem_used_max accepts only 0 (reset the peak)");
        store_->reset_mem_used_max();
        return {};
    }
    if (name == "compact") {
        store_->compact();
        return {};
    }
    if (name == "idle") {
        if (trim(value) == "all") {
            store_->mark_idle(0);
            return {};
        }
        auto age = kstrto<std::uint64_t>(value, 0);
        if (!age) return make_error(EINVAL, "idle takes \"all\" or an age in seconds");
        store_->mark_idle(*age);
        return {};
    }
    if (name == "recomp_algorithm") {
        auto args = split_args(value);
        if (!args) return args.error();
        std::optional<std::string> algo;
        int prio = 1;
        for (const auto& a : *args) {
            if (a.key == "algo") {
                algo = a.value;
            } else if (a.key == "priority") {
                auto n = kstrto<int>(a.value, 10);
                if (!n) return make_error(n.error().code, "priority: " + n.error().message);
                prio = *n;
            } else {
                return unknown_key(a.key, "recomp_algorithm", "algo, priority");
            }
        }
        if (!algo) return make_error(EINVAL, "recomp_algorithm needs algo=NAME");
        if (prio < 1 || prio > max_priority)
            return make_error(EINVAL, "priority " + std::to_string(prio) + " is out of range (1.." + std::to_string(max_priority) + ")");
        if (auto ok = check_algorithm_name(*algo); !ok) return ok;
        return busy("recomp_algorithm");
    }
    if (name == "recompress") {
        auto args = split_args(value);
        if (!args) return args.error();
        for (const auto& a : *args) {
            if (a.key == "type") {
                if (a.value != "idle" && a.value != "huge" && a.value != "huge_idle")
                    return make_error(EINVAL, "recompress type must be idle, huge or huge_idle, not '" + a.value + "'");
            } else if (a.key == "max_pages") {
                if (auto n = kstrto<std::uint64_t>(a.value, 10); !n) return make_error(n.error().code, "max_pages: " + n.error().message);
            } else if (a.key == "threshold") {
                auto n = kstrto<std::uint32_t>(a.value, 10);
                if (!n) return make_error(n.error().code, "threshold: " + n.error().message);
                if (*n >= huge_class_size)
                    return make_error(EINVAL, "threshold must be below " + std::to_string(huge_class_size) + " bytes");
            } else if (a.key == "priority") {
                if (auto n = kstrto<std::uint32_t>(a.value, 10); !n) return make_error(n.error().code, "priority: " + n.error().message);
            } else if (a.key != "algo") {
                return unknown_key(a.key, "recompress", "type, threshold, max_pages, algo, priority");
            }
        }
        // As the kernel with no secondary algorithm: nothing to recompress with. This release
        // cannot configure one (recomp_algorithm needs an uninitialised device).
        return make_error(EINVAL, "no recompression algorithm configured");
    }
    if (name == "backing_dev" || name == "writeback" || name == "writeback_limit" ||
        name == "writeback_limit_enable")
        return make_error(EOPNOTSUPP, name + ": writeback to a backing device is not supported by trueno-zram");
    if (name == "max_comp_streams")
        return make_error(EBUSY, "max_comp_streams is fixed when the device is created (CreateDevice streams)");
    return make_error(ENOENT, "no attribute '" + name + "'");
}

} // namespace trueno::service
