// Which pages a recompress call's `type` selects (the kernel's recompress type=).
#pragma once

#include <cstdint>

#include "slot_table.hpp"
#include "trueno/page_store.hpp"

namespace trueno::store {

inline bool type_matches(RecompressOptions::Type type, std::uint32_t kind) {
    const bool idle = kind & slot_flags::kIdle;
    const bool huge = kind & slot_flags::kHuge;
    switch (type) {
    case RecompressOptions::Type::all: return true;
    case RecompressOptions::Type::idle: return idle;
    case RecompressOptions::Type::huge: return huge;
    case RecompressOptions::Type::huge_idle: return idle && huge;
    }
    return false;
}

} // namespace trueno::store
