// Generator mode: config in, unit files out, messages to the journal; never fails the boot.
#pragma once

#include <filesystem>
#include <iosfwd>

namespace trueno::generator {

// Writes the units for root's configuration into outdir. Returns the exit code: 0 unless the
// output folder cannot be written (bad config lines are reported on log and skipped).
int generate(const std::filesystem::path& root, bool test_mode, const std::filesystem::path& outdir,
             std::ostream& log);

// --print-config: the devices the configuration works out to, one key=value per line, as
// setup would create them (sizes in bytes). Messages go to log.
int print_config(const std::filesystem::path& root, std::ostream& out, std::ostream& log);

} // namespace trueno::generator
