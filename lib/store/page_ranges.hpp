// Pages a refill plans to populate, as ranges of one segment's pages.
//
// Contract of merge_page_ranges(): afterwards the ranges are sorted by (segment, first_page),
// no two of them share or touch a page of the same segment (overlapping and adjacent ranges
// are joined), and together they cover exactly the pages they covered before. It works in
// place and never allocates (it runs on memory populated ahead, with no fault allowed).
//
// Why it matters: the refiller publishes pages as it populates them, so an object may be on a
// page before the refill is over; populating writes to the page. A page planned twice (the
// window above a class's top and a free slot on a page given back can share one, and so can
// two slots straddling the same page) would be written again with an object on it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace trueno::store {

struct PageRange {
    std::uint64_t segment = 0;
    std::uint64_t first_page = 0;
    std::uint64_t end_page = 0; // one past the last
};

inline void merge_page_ranges(std::vector<PageRange>& ranges) {
    std::sort(ranges.begin(), ranges.end(), [](const PageRange& a, const PageRange& b) {
        return a.segment != b.segment ? a.segment < b.segment : a.first_page < b.first_page;
    });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        const PageRange range = ranges[i];
        if (range.first_page >= range.end_page)
            continue; // empty
        if (kept > 0 && ranges[kept - 1].segment == range.segment &&
            range.first_page <= ranges[kept - 1].end_page)
            ranges[kept - 1].end_page = std::max(ranges[kept - 1].end_page, range.end_page);
        else
            ranges[kept++] = range;
    }
    ranges.resize(kept); // smaller: no allocation
}

} // namespace trueno::store
