// The varlink library's owned file descriptor is the project's one (trueno/unique_fd.hpp).
#pragma once

#include "trueno/unique_fd.hpp"

namespace trueno::varlink {
using trueno::UniqueFd;
} // namespace trueno::varlink
