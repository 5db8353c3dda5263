// Fixed attribute maps, as trueno-zramd's GetAttributes returns them, for the metrics golden
// files and the promtool check: a busy device, an empty one, and a device name that needs
// escaping in a label.
#pragma once

#include <vector>

#include "trueno/metrics/exposition.hpp"

namespace trueno::metrics::testing {

std::vector<DeviceAttributes> sample_devices();

} // namespace trueno::metrics::testing
