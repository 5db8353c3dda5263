// The process memory a store's bookkeeping holds outside its arena (the heap): what a daemon
// that takes a store over allocates to rebuild it, and a part of the daemon's own footprint.
#pragma once

#include <cstdint>

namespace trueno {

struct StoreBookkeeping {
    std::uint64_t segments = 0;        // allocator segments with a page map
    std::uint64_t page_map_bytes = 0;  // their per-page object counts and states
    std::uint64_t owner_bytes = 0;     // slot -> owning page, every size class
    std::uint64_t free_list_bytes = 0; // free slots and emptied pages, every size class
    std::uint64_t directory_bytes = 0; // segment directories
    std::uint64_t total() const {
        return page_map_bytes + owner_bytes + free_list_bytes + directory_bytes;
    }
};

} // namespace trueno
