// Fuzz target: trueno-zram.conf as the generator reads it at boot (generator/config.cpp): a
// config file with any bytes in it, and the kernel command line's trueno.zram= switch. A bad
// line is reported and skipped, never fatal; every device that comes out is one the setup can
// make: a [zramN] id, a disk size of at least one page, a mount unit name unless too long, and
// unit files that stay in the output folder.
//
// Byte 0 picks what the rest is: a config file (read with RAM from the next two bytes), a kernel
// command line, a recompress-interval time span, or a compression-algorithm value.
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fuzz_check.hpp"
#include "unit_name.hpp"
#include "unit_writer.hpp"

using trueno::fuzz::check;
namespace gen = trueno::generator;

namespace {

void check_config(std::string_view text, double ram_mib) {
    const gen::Config config =
        gen::build_config({{"/etc/trueno-zram.conf", std::string(text)}}, ram_mib, std::nullopt);
    for (const auto& [id, dev] : config.devices) {
        check(id == dev.id && id >= 0 && id <= 1048575, "a device id is the N of [zramN]");
        check(dev.enabled, "only enabled devices come out");
        check(dev.disksize_bytes >= 4096, "a device is at least one page");
        check(std::isfinite(dev.size_mib) && std::isfinite(dev.resident_limit_mib),
              "sizes are finite");
        check(dev.swap_priority >= -1 && dev.swap_priority <= 32767, "swap priority in range");
        check(!dev.compression.primary || !dev.compression.primary->name.empty(),
              "a named algorithm has a name");
        if (!dev.mount_point.empty()) {
            check(dev.mount_point.front() == '/', "a mount point is absolute");
            const auto unit = gen::mount_unit_name(dev.mount_point);
            check(unit.ok() || unit.error().code == ENAMETOOLONG,
                  "an accepted mount point escapes to a unit name, or is too long for one");
        }
        const auto files = gen::units_for_device(dev);
        check(files.ok() || files.error().code == EINVAL, "units are made, or EINVAL");
        if (files) {
            for (const auto& file : *files) {
                const std::filesystem::path path(file.path);
                check(!file.path.empty() && path.is_relative(), "unit files are in the folder");
                for (const auto& part : path)
                    check(part != "..", "no unit file path leaves the output folder");
            }
        }
        if (const auto policy = dev.recompress_policy_value())
            check(gen::known_recompress_policy(*dev.recompress_policy) &&
                      policy->starts_with(*dev.recompress_policy),
                  "a policy's attribute text starts with a known policy name");
    }
}

void check_cmdline(std::string_view text) {
    std::vector<std::string> messages;
    (void)gen::parse_kernel_cmdline(text, messages);
}

void check_timespan(std::string_view text) {
    const auto seconds = gen::parse_timespan_s(text);
    check(seconds.ok() || seconds.error().code == EINVAL, "a bad time span is EINVAL");
    if (seconds)
        check(*seconds <= (std::uint64_t{1} << 50), "a time span is bounded");
}

void check_compression(std::string_view text) {
    const auto c = gen::parse_compression(text);
    check(c.ok() || c.error().code == EINVAL, "a bad compression-algorithm is EINVAL");
    if (!c)
        return;
    check(c->primary.has_value(), "an accepted compression-algorithm names an algorithm");
    for (const auto& entry : c->recompression)
        check(!entry.name.empty(), "every recompression algorithm has a name");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 3), size - 3);
    switch (data[0] % 4) {
    case 0: // 1 MiB .. 64 GiB of RAM
        check_config(text, 1.0 + (data[1] << 8 | data[2]));
        break;
    case 1:
        check_cmdline(text);
        break;
    case 2:
        check_timespan(text);
        break;
    default:
        check_compression(text);
        break;
    }
    return 0;
}
