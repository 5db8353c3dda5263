#include "generate.hpp"

#include <ostream>

#include "config.hpp"
#include "container.hpp"
#include "unit_writer.hpp"

namespace trueno::generator {

int generate(const std::filesystem::path& root, bool test_mode, const std::filesystem::path& outdir,
             std::ostream& log)
{
    const char* me = "trueno-zram-generator: ";
    if (in_container(root, test_mode)) {
        log << me << "running in a container, not creating any devices\n";
        return 0;
    }
    Config config = load_config(root);
    for (const auto& m : config.messages) log << me << m << '\n';
    int rc = 0;
    for (const auto& [id, device] : config.devices) {
        auto files = units_for_device(device);
        if (!files) {
            log << me << "[zram" << id << "]: " << files.error().message << ", skipping it\n";
            continue;
        }
        if (auto s = write_files(outdir, *files); !s) {
            log << me << s.error().message << '\n';
            rc = 1;
        }
    }
    return rc;
}

int print_config(const std::filesystem::path& root, std::ostream& out, std::ostream& log)
{
    Config config = load_config(root);
    for (const auto& m : config.messages) log << "trueno-zram-generator: " << m << '\n';
    for (const auto& [id, d] : config.devices) {
        out << "[zram" << id << "] /dev/" << d.device_name() << '\n';
        out << "disksize=" << d.disksize_bytes << '\n';
        out << "mem_limit=" << d.mem_limit_bytes << '\n';
        const auto& c = d.compression;
        out << "algorithm=" << (c.primary ? c.primary->name : "") << '\n';
        out << "algorithm_params=" << (c.primary ? c.primary->params_text() : "") << '\n';
        for (std::size_t i = 0; i < c.recompression.size(); ++i)
            out << "recomp_algorithm=algo=" << c.recompression[i].name << " priority=" << i + 1
                << (c.recompression[i].params.empty() ? "" : " (" + c.recompression[i].params_text() + ")") << '\n';
        std::string global;
        for (const auto& [k, v] : c.global_params) global += (global.empty() ? "" : " ") + k + "=" + v;
        if (!global.empty()) out << "recompress=" << global << '\n';
        if (auto policy = d.recompress_policy_value()) out << "recompress_policy=" << *policy << '\n';
        else if (d.recompress_interval_s)
            out << "recompress-interval=" << *d.recompress_interval_s << "s idle-age="
                << d.recompress_idle_age_s.value_or(*d.recompress_interval_s) << "s\n";
        out << "fs-type=" << d.effective_fs_type() << '\n';
        if (!d.mount_point.empty()) out << "mount-point=" << d.mount_point << '\n';
        out << "options=" << d.effective_options() << '\n';
        if (d.is_swap()) out << "swap-priority=" << d.swap_priority << '\n';
        if (!d.writeback_device.empty()) out << "writeback-device=" << d.writeback_device << '\n';
        if (auto policy = d.writeback_policy_value())
            out << "writeback_policy=" << *policy << '\n';
        std::string from;
        for (const auto& s : d.sources) from += (from.empty() ? "" : ", ") + s;
        out << "from=" << from << "\n\n";
    }
    return 0;
}

} // namespace trueno::generator
