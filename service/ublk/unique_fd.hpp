// The ublk side's owned file descriptor is the project's one (trueno/unique_fd.hpp).
#pragma once

#include "trueno/unique_fd.hpp"

namespace trueno::ublk {
using trueno::UniqueFd;
} // namespace trueno::ublk
