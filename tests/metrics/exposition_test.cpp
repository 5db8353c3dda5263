// The metrics text from fixed attribute maps: golden files of both formats, exact values, the
// naming rules (units, _total), the # EOF terminator and label escaping.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <fstream>
#include <sstream>
#include <vector>

#include "sample_devices.hpp"
#include "trueno/metrics/exposition.hpp"

using namespace trueno::metrics;

namespace {

// TRUENO_UPDATE_GOLDEN=1 rewrites the file and fails the test, so a regenerated file is never
// mistaken for a passing comparison: review the diff, then run again.
void check_golden(const std::string& name, const std::string& actual) {
    const std::string path = std::string(METRICS_GOLDEN_DIR) + "/" + name;
    if (std::getenv("TRUENO_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        FAIL_CHECK("golden file rewritten: " << path);
        return;
    }
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream expected;
    expected << in.rdbuf();
    INFO("golden file " << path);
    CHECK(actual == expected.str());
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "# KEYWORD name rest": the name.
std::string described_name(const std::string& line) {
    std::istringstream in(line);
    std::string hash, keyword, name;
    in >> hash >> keyword >> name;
    return name;
}

std::string sample_metric_name(const std::string& line) { return line.substr(0, line.find_first_of("{ ")); }

} // namespace

TEST_CASE("OpenMetrics and Prometheus text of the sample devices match their golden files", "[metrics]") {
    const auto devices = testing::sample_devices();
    check_golden("openmetrics.txt", render(devices, Exposition::OpenMetrics));
    check_golden("prometheus.txt", render(devices, Exposition::PrometheusText));
}

TEST_CASE("values are the attributes' numbers, converted to the unit the name says", "[metrics]") {
    const auto text = render(testing::sample_devices(), Exposition::OpenMetrics);
    const auto has = [&](const std::string& line) {
        INFO(line);
        CHECK(text.find("\n" + line + "\n") != std::string::npos);
    };
    has("trueno_zram_orig_data_bytes{device=\"/dev/ublkb0\"} 12058624");
    has("trueno_zram_mem_used_total_bytes{device=\"/dev/ublkb0\"} 2834432");
    has("trueno_zram_huge_pages{device=\"/dev/ublkb0\"} 17");
    has("trueno_zram_huge_stored_pages_total{device=\"/dev/ublkb0\"} 40");
    has("trueno_zram_failed_writes_total{device=\"/dev/ublkb0\"} 2");
    has("trueno_zram_algorithm_info{device=\"/dev/ublkb0\",algorithm=\"zstd\"} 1");
    has("trueno_zram_algorithm_info{device=\"/dev/ublkb12\",algorithm=\"lzo-rle\"} 1");
    has("trueno_zram_reserve_bytes{device=\"/dev/ublkb0\"} 262144");
    has("trueno_zram_recoveries_total{device=\"/dev/ublkb0\"} 3");
    has("trueno_zram_deduplicated_pages{device=\"/dev/ublkb0\"} 12");
    has("trueno_zram_recompress_passes_total{device=\"/dev/ublkb0\"} 4");
    has("trueno_zram_recompress_last_pass_cpu_seconds{device=\"/dev/ublkb0\"} 0.125");
    has("trueno_zram_reads_total{device=\"/dev/ublkb0\"} 5120");
    has("trueno_zram_read_bytes_total{device=\"/dev/ublkb0\"} " + std::to_string(40960ull * 512));
    // 12058624 / 2834432, printed in a form that reads back as the same double.
    const std::string ratio_prefix = "\ntrueno_zram_compression_ratio{device=\"/dev/ublkb0\"} ";
    const auto at = text.find(ratio_prefix);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(text.substr(at + ratio_prefix.size())) == 12058624.0 / 2834432.0);
    // Nothing stored: no ratio rather than a division by zero.
    CHECK(text.find("trueno_zram_compression_ratio{device=\"/dev/ublkb12\"}") == std::string::npos);
    // An attribute a device lacks leaves its families out for that device only.
    CHECK(text.find("trueno_zram_reads_total{device=\"/dev/ublkb12\"}") == std::string::npos);
}

TEST_CASE("OpenMetrics: every family has HELP and TYPE, units end the name, counters end in _total", "[metrics]") {
    const auto lines = lines_of(render(testing::sample_devices(), Exposition::OpenMetrics));
    REQUIRE(lines.size() > 40);
    std::string family, type;
    std::size_t families = 0, counters = 0, units = 0, samples = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto& line = lines[i];
        INFO(line);
        if (line.rfind("# HELP ", 0) == 0) {
            family = described_name(line);
            REQUIRE(i + 1 < lines.size());
            REQUIRE(lines[i + 1].rfind("# TYPE " + family + " ", 0) == 0);
            type = lines[i + 1].substr(8 + family.size());
            ++families;
            CHECK_FALSE(ends_with(family, "_total")); // the family name; its samples add it
        } else if (line.rfind("# UNIT ", 0) == 0) {
            CHECK(described_name(line) == family);
            const auto unit = line.substr(8 + family.size());
            CHECK(ends_with(family, "_" + unit));
            ++units;
        } else if (line.rfind("# TYPE ", 0) == 0 || line == "# EOF") {
            continue;
        } else {
            const auto name = sample_metric_name(line);
            if (type == "counter") {
                CHECK(name == family + "_total");
                ++counters;
            } else if (type == "info") {
                CHECK(name == family + "_info");
            } else {
                CHECK(type == "gauge");
                CHECK(name == family);
                CHECK_FALSE(ends_with(name, "_total"));
            }
            CHECK(line.find("{device=\"") == name.size());
            ++samples;
        }
    }
    CHECK(families >= 30);
    CHECK(counters > 0);
    CHECK(units > 0);
    CHECK(samples > families);
    CHECK(lines.back() == "# EOF");
    CHECK(std::count(lines.begin(), lines.end(), "# EOF") == 1);
}

TEST_CASE("Prometheus text: HELP and TYPE name the sample, no UNIT, no # EOF, the same samples", "[metrics]") {
    const auto devices = testing::sample_devices();
    const auto om = lines_of(render(devices, Exposition::OpenMetrics));
    const auto text = lines_of(render(devices, Exposition::PrometheusText));
    std::vector<std::string> om_samples, text_samples;
    for (const auto& l : om)
        if (l[0] != '#')
            om_samples.push_back(l);
    std::string described;
    for (const auto& l : text) {
        INFO(l);
        CHECK(l.rfind("# UNIT", 0) != 0);
        CHECK(l != "# EOF");
        if (l.rfind("# HELP ", 0) == 0 || l.rfind("# TYPE ", 0) == 0) {
            described = described_name(l);
            if (l.rfind("# TYPE ", 0) == 0 && ends_with(l, " counter"))
                CHECK(ends_with(described, "_total"));
            CHECK(l.find(" info") == std::string::npos);
        } else {
            CHECK(sample_metric_name(l) == described);
            text_samples.push_back(l);
        }
    }
    CHECK(text_samples == om_samples);
}

TEST_CASE("label values escape backslash, double quote and newline", "[metrics]") {
    CHECK(escape_label_value("/dev/ublkb0") == "/dev/ublkb0");
    CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
    CHECK(escape_label_value("/mnt/データ") == "/mnt/データ"); // UTF-8 passes unchanged
    const auto text = render(testing::sample_devices(), Exposition::OpenMetrics);
    CHECK(text.find("trueno_zram_orig_data_bytes{device=\"/dev/odd \\\"quoted\\\" back\\\\slash\\nnewline\"} 4096\n") !=
          std::string::npos);
}

TEST_CASE("malformed or missing attributes leave values out instead of inventing them", "[metrics]") {
    std::vector<DeviceAttributes> devices{
        {"/dev/ublkb3", {{"mm_stat", "100 abc 300 0 0 0 0 0 0"}, {"io_stat", "1 2"}, {"disksize", "-5"}}}};
    const auto text = render(devices, Exposition::OpenMetrics);
    CHECK(text.find("trueno_zram_orig_data_bytes") == std::string::npos);
    CHECK(text.find("trueno_zram_disksize_bytes") == std::string::npos);
    CHECK(text.find("trueno_zram_failed_writes_total{device=\"/dev/ublkb3\"} 2\n") != std::string::npos);
    CHECK(text.find("trueno_zram_invalid_io") == std::string::npos); // io_stat has two fields only
    CHECK(render({}, Exposition::OpenMetrics) == "# EOF\n");
    CHECK(render({}, Exposition::PrometheusText).empty());
}
