// Never-fault mode: memory the I/O path would otherwise take on first use is taken at store
// creation instead (see StoreConfig::never_fault_on_io).
#pragma once

#include "stream_pool.hpp"
#include "trueno/result.hpp"

namespace trueno::store {

// Compresses and decompresses one page with every stream at once, so each codec's lazily
// allocated workspace (zstd's contexts) exists before the first write.
Status warm_streams(StreamPool& pool);

} // namespace trueno::store
