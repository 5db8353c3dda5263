// The metrics of a real device's attributes (ZramAttributes over a real page store): every
// family the daemon's attributes feed is present and agrees with the store's own statistics,
// so a change of an attribute's text cannot silently drop a metric.
#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <vector>

#include "trueno/metrics/exposition.hpp"
#include "trueno/page_store.hpp"
#include "zram_attributes.hpp"

using namespace trueno;

TEST_CASE("every attribute-fed family renders from a live device's attributes", "[metrics]") {
    StoreConfig config;
    config.disksize = 1 << 20;
    config.algorithm = "lz4";
    config.streams = 2;
    auto created = PageStore::create(config);
    REQUIRE(created.ok());
    std::shared_ptr<PageStore> store = std::move(*created);
    service::ZramAttributes attributes(store, config);

    std::array<std::byte, kPageSize> page{};
    for (std::size_t i = 0; i < page.size(); ++i)
        page[i] = static_cast<std::byte>("compressible text "[i % 18]);
    for (std::uint64_t index = 0; index < 8; ++index)
        REQUIRE(store->write_page(index, page).ok());

    const std::vector<metrics::DeviceAttributes> devices{{"/dev/ublkb0", attributes.read_all()}};
    const auto text = metrics::render(devices, metrics::Exposition::OpenMetrics);
    INFO(text);
    const auto mm = store->mm_stat();
    const std::string label = "{device=\"/dev/ublkb0\"} ";
    CHECK(text.find("trueno_zram_orig_data_bytes" + label + std::to_string(mm.orig_data_size) + "\n") !=
          std::string::npos);
    CHECK(mm.orig_data_size == 8 * kPageSize);
    CHECK(text.find("trueno_zram_mem_used_total_bytes" + label + std::to_string(mm.mem_used_total) + "\n") !=
          std::string::npos);
    CHECK(text.find("trueno_zram_disksize_bytes" + label + "1048576\n") != std::string::npos);
    CHECK(text.find("trueno_zram_comp_streams" + label + "2\n") != std::string::npos);
    CHECK(text.find("trueno_zram_algorithm_info{device=\"/dev/ublkb0\",algorithm=\"lz4\"} 1\n") != std::string::npos);
    CHECK(text.find("trueno_zram_reserve_bytes" + label + std::to_string(store->reserve_bytes()) + "\n") !=
          std::string::npos);
    for (const char* family :
         {"trueno_zram_compr_data_bytes", "trueno_zram_mem_limit_bytes", "trueno_zram_mem_used_max_bytes",
          "trueno_zram_same_pages", "trueno_zram_compacted_pages_total", "trueno_zram_huge_pages",
          "trueno_zram_huge_stored_pages_total", "trueno_zram_compression_ratio", "trueno_zram_failed_reads_total",
          "trueno_zram_failed_writes_total", "trueno_zram_invalid_io_total", "trueno_zram_notify_free_total",
          "trueno_zram_backing_dev_pages", "trueno_zram_backing_dev_read_pages_total",
          "trueno_zram_backing_dev_written_pages_total", "trueno_zram_grouped_pages", "trueno_zram_page_groups",
          "trueno_zram_deduplicated_pages", "trueno_zram_shared_objects", "trueno_zram_reserve_misses_total",
          "trueno_zram_reserve_borrows_total", "trueno_zram_reserve_waits_total",
          "trueno_zram_reserve_refusals_total", "trueno_zram_recoveries_total", "trueno_zram_damaged_pages"}) {
        INFO(family);
        CHECK(text.find(std::string("\n") + family + label) != std::string::npos);
    }
}
