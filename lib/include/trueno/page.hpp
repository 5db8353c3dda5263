// The unit everything is stored in: one 4096-byte page, as kernel zram on x86-64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace trueno {

inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::size_t kSectorSize = 512;
inline constexpr std::size_t kSectorsPerPage = kPageSize / kSectorSize;

using PageView = std::span<const std::byte, kPageSize>;
using MutablePageView = std::span<std::byte, kPageSize>;

} // namespace trueno
