// Presents a benchmark result: one JSON object (--json) or a readable table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "page_store_bench.hpp"

namespace trueno::bench {

// What was measured, besides the numbers.
struct BenchSetup {
    std::string input;
    std::string algorithm;
    std::string params; // as given, e.g. "level=3"
    int level = 0;      // the level the codec used
    unsigned threads = 1;
    std::string write_mode;
    std::uint64_t disksize = 0;
};

nlohmann::json report_json(const BenchSetup& setup, const BenchResult& result);
std::string report_table(const BenchSetup& setup, const BenchResult& result);

} // namespace trueno::bench
