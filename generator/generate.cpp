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

} // namespace trueno::generator
