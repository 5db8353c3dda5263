// Counting a thread's page faults in tests of the never-fault mode, and knowing when the count
// means nothing: AddressSanitizer's and ThreadSanitizer's shadow memory of our regions faults in
// on first check, so under them page faults say nothing about the store.
#pragma once

#include <sys/resource.h>

namespace trueno::test {

inline long thread_minor_faults() {
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_minflt;
}

#if defined(__SANITIZE_ADDRESS__)
inline constexpr const char* kShadowSanitizer = "AddressSanitizer";
#elif defined(__SANITIZE_THREAD__)
inline constexpr const char* kShadowSanitizer = "ThreadSanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr const char* kShadowSanitizer = "AddressSanitizer";
#elif __has_feature(thread_sanitizer)
inline constexpr const char* kShadowSanitizer = "ThreadSanitizer";
#else
inline constexpr const char* kShadowSanitizer = nullptr;
#endif
#else
inline constexpr const char* kShadowSanitizer = nullptr;
#endif

} // namespace trueno::test
