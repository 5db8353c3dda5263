#include "trueno/thread_name.hpp"

#include <array>
#include <cstring>
#include <pthread.h>

namespace trueno {

void name_this_thread(std::string_view name) noexcept {
    std::array<char, 16> text{}; // the kernel keeps 15 characters and the terminating zero
    std::memcpy(text.data(), name.data(), std::min(name.size(), text.size() - 1));
    pthread_setname_np(pthread_self(), text.data());
}

} // namespace trueno
