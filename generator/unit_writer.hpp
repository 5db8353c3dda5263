// The systemd units for configured devices: a .swap or .mount unit, the setup service's
// binding drop-in, the enablement links, and the optional idle-recompression timer.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config.hpp"
#include "trueno/result.hpp"

namespace trueno::generator {

struct GeneratedFile {
    std::string path;           // relative to the output folder
    std::string contents;       // a regular file when link_target is empty
    std::string link_target;    // otherwise a symlink to this
};

// Every file for one device. EINVAL (device skipped) when a unit name cannot be made.
Result<std::vector<GeneratedFile>> units_for_device(const DeviceConfig& device);

// Writes them under outdir; an existing file or link of the same name is replaced.
Status write_files(const std::filesystem::path& outdir, const std::vector<GeneratedFile>& files);

} // namespace trueno::generator
