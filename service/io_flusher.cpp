#include "io_flusher.hpp"

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

namespace trueno::service {

bool become_io_flusher(std::string_view thread)
{
    if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) == 0)
        return true;
    spdlog::warn("{}: PR_SET_IO_FLUSHER failed ({}): swap under memory pressure may deadlock", thread,
                 std::strerror(errno));
    return false;
}

} // namespace trueno::service
