// The calling thread's own CPU time (user and system), for the store's threads that report or
// pace their work by the CPU they use rather than by wall time.
#pragma once

#include <chrono>
#include <time.h>

namespace trueno::store {

inline std::chrono::nanoseconds thread_cpu_time() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

inline double thread_cpu_seconds() noexcept {
    return std::chrono::duration<double>(thread_cpu_time()).count();
}

} // namespace trueno::store
