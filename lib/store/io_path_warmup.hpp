// Never-fault mode: memory the I/O path would otherwise take on first use is taken at store
// creation instead (see StoreConfig::never_fault_on_io).
#pragma once

#include "stream_pool.hpp"
#include "trueno/result.hpp"

namespace trueno::store {

// What a pool's streams do on the I/O path: the store's own codec writes and reads; a
// recompression generation's is only read there (its compressing is done by recompression, in
// the background, which may allocate and fail).
enum class StreamUse { write_and_read, read };

// Readies every stream at once, so each codec's lazily allocated workspace (zstd's contexts)
// exists before the first write or read: a round trip of one page, or for `read` the codec's
// warm_decompression (a taken-over store then makes no compression state for each generation
// it restores: 1.1 MB for one with a level-9 dictionary).
Status warm_streams(StreamPool& pool, StreamUse use);

} // namespace trueno::store
