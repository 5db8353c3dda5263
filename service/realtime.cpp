#include "realtime.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>

#include <spdlog/spdlog.h>

namespace trueno::service {

bool become_realtime(std::string_view thread)
{
    sched_param param{};
    param.sched_priority = 1;
    // SCHED_RESET_ON_FORK: nothing this thread might start inherits the priority.
    if (const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO | SCHED_RESET_ON_FORK, &param); rc != 0) {
        spdlog::warn("{}: cannot run at realtime priority ({}); under memory pressure it competes for "
                     "memory with the processes it swaps for",
                     thread, std::strerror(rc));
        return false;
    }
    return true;
}

} // namespace trueno::service
