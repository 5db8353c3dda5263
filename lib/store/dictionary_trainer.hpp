// Trains a zstd dictionary from sample pages (ZDICT), for recompression with a dictionary.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::store {

// samples: whole pages back to back. The result is at most capacity bytes. Too few or too
// uniform samples to learn from: EINVAL with zstd's reason.
Result<std::vector<std::byte>> train_dictionary(std::span<const std::byte> samples,
                                                std::size_t capacity);

} // namespace trueno::store
