// merge_page_ranges(): the refiller's plan names each page once (page_ranges.hpp).
#include "page_ranges.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <utility>
#include <vector>

using trueno::store::merge_page_ranges;
using trueno::store::PageRange;

namespace {

std::set<std::pair<std::uint64_t, std::uint64_t>> pages_of(const std::vector<PageRange>& ranges) {
    std::set<std::pair<std::uint64_t, std::uint64_t>> pages;
    for (const PageRange& r : ranges)
        for (std::uint64_t p = r.first_page; p < r.end_page; ++p)
            pages.emplace(r.segment, p);
    return pages;
}

} // namespace

TEST_CASE("page ranges: overlapping, adjacent and repeated ranges become disjoint ones",
          "[store][page-ranges]") {
    // The refiller's cases: the window above top, a free slot on a page given back inside it,
    // two slots straddling the same page, a page planned twice, and other segments between.
    std::vector<PageRange> ranges{{3, 10, 20}, {3, 12, 13}, {1, 5, 6},   {3, 19, 22}, {1, 6, 7},
                                  {2, 0, 1},   {1, 5, 6},   {3, 30, 31}, {2, 4, 4}};
    ranges.reserve(16);
    const auto* storage = ranges.data();
    const auto before = pages_of(ranges);
    merge_page_ranges(ranges);
    CHECK(ranges.data() == storage); // in place
    CHECK(pages_of(ranges) == before);
    const std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> expected{
        {1, 5, 7}, {2, 0, 1}, {3, 10, 22}, {3, 30, 31}};
    REQUIRE(ranges.size() == expected.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        INFO("range " << i);
        CHECK(ranges[i].segment == std::get<0>(expected[i]));
        CHECK(ranges[i].first_page == std::get<1>(expected[i]));
        CHECK(ranges[i].end_page == std::get<2>(expected[i]));
    }
    // No page twice: the sum of the lengths is the number of distinct pages.
    std::uint64_t total = 0;
    for (const PageRange& r : ranges)
        total += r.end_page - r.first_page;
    CHECK(total == before.size());
}

TEST_CASE("page ranges: nothing to merge leaves the plan as it was, sorted",
          "[store][page-ranges]") {
    std::vector<PageRange> ranges{{0, 8, 9}, {0, 2, 3}, {4, 0, 2}};
    merge_page_ranges(ranges);
    REQUIRE(ranges.size() == 3);
    CHECK(ranges[0].first_page == 2);
    CHECK(ranges[1].first_page == 8);
    CHECK(ranges[2].segment == 4);
    std::vector<PageRange> empty;
    merge_page_ranges(empty);
    CHECK(empty.empty());
}
