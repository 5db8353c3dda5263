// ZramAttributes over a real page store: every attribute's text and every error code.
#include "recording_store.hpp"
#include "trueno/codec.hpp"
#include "trueno/page_store.hpp"
#include "trueno/writeback_policy.hpp"
#include "zram_attributes.hpp"

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace trueno;
using namespace trueno::service;
using trueno::testing::RecordingStore;

namespace {

struct Device {
    StoreConfig config;
    std::shared_ptr<RecordingStore> store;
    std::unique_ptr<ZramAttributes> attrs;

    explicit Device(std::string algorithm = "lz4", std::uint64_t size = 1 << 20) {
        config.disksize = size;
        config.algorithm = std::move(algorithm);
        config.streams = 2;
        auto real = PageStore::create(config);
        REQUIRE(real.ok());
        store = std::make_shared<RecordingStore>(std::move(*real));
        attrs = std::make_unique<ZramAttributes>(store, config);
    }

    std::string read(const std::string& name) const {
        auto v = attrs->read(name);
        INFO(name << ": " << (v ? "" : v.error().message));
        REQUIRE(v.ok());
        return *v;
    }
    int write_errno(const std::string& name, const std::string& value) {
        auto s = attrs->write(name, value);
        if (s) return 0;
        CHECK_FALSE(s.error().message.empty());
        return s.error().code;
    }
    std::vector<std::uint64_t> mm_fields() const {
        std::istringstream in(read("mm_stat"));
        std::vector<std::uint64_t> v;
        for (std::uint64_t x; in >> x;) v.push_back(x);
        return v;
    }
};

std::array<std::byte, kPageSize> text_page(unsigned seed) {
    std::array<std::byte, kPageSize> page{};
    for (std::size_t i = 0; i < page.size(); ++i)
        page[i] = static_cast<std::byte>("the quick brown fox "[i % 20] + (i / 512 + seed) % 3);
    return page;
}

} // namespace

TEST_CASE("read_all has every readable attribute and no write-only one") {
    Device d;
    const auto all = d.attrs->read_all();
    std::set<std::string> names;
    for (const auto& [k, _] : all) names.insert(k);
    const std::set<std::string> expected = {"disksize",          "initstate",
                                            "comp_algorithm",    "mm_stat",
                                            "io_stat",           "debug_stat",
                                            "bd_stat",           "backing_dev",
                                            "writeback_limit",   "writeback_limit_enable",
                                            "recomp_algorithm",  "max_comp_streams",
                                            "object_stat",       "recompress_policy",
                                            "recompress_status", "writeback_policy"};
    CHECK(names == expected);
    for (const auto& [k, v] : all) {
        INFO(k);
        CHECK((v.empty() || v.back() != '\n'));
        CHECK(v == d.read(k));
    }
}

TEST_CASE("simple attributes read as the kernel prints them") {
    Device d("lz4", 3 * 1024 * 1024);
    CHECK(d.read("disksize") == "3145728");
    CHECK(d.read("initstate") == "1");
    CHECK(d.read("bd_stat") == "       0        0        0");
    CHECK(d.read("backing_dev") == "none");
    CHECK(d.read("recomp_algorithm").empty());
    CHECK(d.read("max_comp_streams") == "2");
    CHECK(d.read("debug_stat").rfind("version: 1\n", 0) == 0);
}

TEST_CASE("comp_algorithm lists every algorithm, each followed by a space, the current in brackets") {
    for (const auto& info : available_codecs()) {
        Device d(std::string(info.name));
        std::string expected;
        for (const auto& other : available_codecs())
            expected += other.name == info.name ? "[" + std::string(other.name) + "] " : std::string(other.name) + " ";
        CHECK(d.read("comp_algorithm") == expected);
    }
    // The kernel's order and spelling, with every optional codec built (lzo and zlib found).
    if (available_codecs().size() == 7) {
        Device d("lz4");
        CHECK(d.read("comp_algorithm") == "lzo lzo-rle [lz4] lz4hc zstd deflate adaptive ");
    } else {
        WARN("lzo or zlib not built: the full comp_algorithm line is not checked");
    }
}

TEST_CASE("mm_stat and io_stat: the kernel's fields, following the store") {
    Device d;
    auto empty = d.mm_fields();
    REQUIRE(empty.size() == 9);
    CHECK(empty[0] == 0);
    for (unsigned i = 0; i < 10; ++i) {
        auto page = text_page(i);
        REQUIRE(d.store->write_page(i, PageView(page)).ok());
    }
    std::array<std::byte, kPageSize> zeros{};
    REQUIRE(d.store->write_page(20, PageView(zeros)).ok());
    const auto f = d.mm_fields();
    CHECK(f[0] == 11 * kPageSize); // orig_data_size includes same-filled pages
    CHECK(f[1] > 0);
    CHECK(f[1] < 10 * kPageSize);   // text compresses
    CHECK(f[5] == 1);               // same_pages
    // Exactly the library's kernel format, minus the newline sysfs would end with.
    auto expected = format_mm_stat(d.store->mm_stat());
    expected.pop_back();
    CHECK(d.read("mm_stat") == expected);
    // Every field right-aligned in at least 8 columns, as "%8llu".
    CHECK(d.read("mm_stat").size() >= 9 * 8 + 8);

    d.store->discard(0, 2);
    std::istringstream io(d.read("io_stat"));
    std::vector<std::uint64_t> iof;
    for (std::uint64_t x; io >> x;) iof.push_back(x);
    REQUIRE(iof.size() == 4);
    CHECK(iof[3] == 2); // notify_free
}

TEST_CASE("unknown, write-only and read-only attributes: ENOENT and EACCES") {
    Device d;
    CHECK(d.attrs->read("nope").error().code == ENOENT);
    for (const char* wo : {"mem_limit", "mem_used_max", "compact", "idle", "algorithm_params", "recompress", "writeback"}) {
        INFO(wo);
        CHECK(d.attrs->read(wo).error().code == EACCES);
    }
    for (const char* ro : {"initstate", "mm_stat", "io_stat", "debug_stat", "bd_stat"}) {
        INFO(ro);
        CHECK(d.write_errno(ro, "1") == EACCES);
    }
    CHECK(d.write_errno("nope", "1") == ENOENT);
    CHECK(d.write_errno("reset", "1") == ENOENT); // the device manager's job
}

TEST_CASE("disksize and comp_algorithm: validated, then EBUSY as on an initialised device") {
    Device d;
    CHECK(d.write_errno("disksize", "1G") == EBUSY);
    CHECK(d.write_errno("disksize", "4096\n") == EBUSY);
    CHECK(d.write_errno("disksize", "0") == EINVAL);
    CHECK(d.write_errno("disksize", "garbage") == EINVAL);
    CHECK(d.write_errno("disksize", "1GB") == EINVAL);
    CHECK(d.write_errno("comp_algorithm", "zstd") == EBUSY);
    CHECK(d.write_errno("comp_algorithm", "zstd\n") == EBUSY);
    CHECK(d.write_errno("comp_algorithm", "nope") == EINVAL);
    CHECK(d.write_errno("comp_algorithm", std::string(64, 'a')) == E2BIG);
    CHECK(d.read("comp_algorithm").find("[lz4]") != std::string::npos);
    CHECK(d.read("disksize") == "1048576");
}

TEST_CASE("algorithm_params of the primary algorithm: the kernel's syntax checked, then EBUSY") {
    Device d;
    for (const char* ok : {"level=3", "algo=lz4 level=3", "priority=0 level=1", "dict=/some/path", " level=3  ", "deflate.winbits=12"})
        CHECK(d.write_errno("algorithm_params", ok) == EBUSY);
    // algo= names an algorithm the device does not use at all.
    CHECK(d.write_errno("algorithm_params", "algo=zstd level=3") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "level") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "level=") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "level=x") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "level=99999999999") == ERANGE);
    CHECK(d.write_errno("algorithm_params", "foo=1") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "algo=nope") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "priority=9") == EINVAL);
    CHECK(d.write_errno("algorithm_params", "dict=\"unbalanced") == EINVAL);
}

TEST_CASE("mem_limit: memparse sizes, page-aligned, visible in mm_stat") {
    Device d;
    const std::pair<const char*, std::uint64_t> cases[] = {
        {"1M", 1 << 20}, {"1m\n", 1 << 20}, {"2G", 2ULL << 30}, {"1K", 4096}, {"5000", 8192},
        {"0x1000", 4096}, {"010", 4096}, {"0", 0}, {"  3k ", 4096}, {"1T", 1ULL << 40},
    };
    for (const auto& [text, bytes] : cases) {
        INFO(text);
        REQUIRE(d.write_errno("mem_limit", text) == 0);
        CHECK(d.mm_fields()[3] == bytes);
    }
    CHECK(d.write_errno("mem_limit", "abc") == EINVAL);
    CHECK(d.write_errno("mem_limit", "") == EINVAL);
    CHECK(d.write_errno("mem_limit", "1Q") == EINVAL);
    CHECK(d.write_errno("mem_limit", "-1") == EINVAL);
    CHECK(d.write_errno("mem_limit", "99999999999999999999") == ERANGE);
    CHECK(d.write_errno("mem_limit", "16E") == ERANGE);
    CHECK(d.mm_fields()[3] == 1ULL << 40); // failed writes changed nothing
}

TEST_CASE("mem_limit is enforced by the store: writes past it fail, data stays intact") {
    Device d("lz4", 16 << 20);
    REQUIRE(d.write_errno("mem_limit", "64K") == 0);
    std::array<std::byte, kPageSize> noise{};
    std::uint64_t x = 88172645463325252ULL;
    int refused = 0;
    for (unsigned i = 0; i < 64; ++i) {
        for (auto& b : noise) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            b = static_cast<std::byte>(x);
        }
        auto s = d.store->write_page(i, PageView(noise));
        if (!s) {
            CHECK(s.error().code == ENOMEM);
            ++refused;
        }
    }
    CHECK(refused > 0);
    CHECK(d.mm_fields()[2] <= 64 * 1024 + 64 * 1024); // mem_used_total near the limit
}

TEST_CASE("mem_used_max: only 0 resets the peak") {
    Device d;
    for (unsigned i = 0; i < 32; ++i) {
        auto page = text_page(i);
        REQUIRE(d.store->write_page(i, PageView(page)).ok());
    }
    d.store->discard(0, 32);
    const auto before = d.mm_fields();
    CHECK(before[4] >= before[2]);
    CHECK(d.write_errno("mem_used_max", "1") == EINVAL);
    CHECK(d.write_errno("mem_used_max", "x") == EINVAL);
    CHECK(d.write_errno("mem_used_max", "") == EINVAL);
    CHECK(d.mm_fields()[4] == before[4]);
    REQUIRE(d.write_errno("mem_used_max", "0\n") == 0);
    const auto after = d.mm_fields();
    CHECK(after[4] == after[2]);
}

TEST_CASE("compact and idle reach the store; idle takes all or seconds") {
    Device d;
    REQUIRE(d.write_errno("compact", "1") == 0);
    REQUIRE(d.write_errno("compact", "") == 0);
    CHECK(d.store->compact_calls == 2);
    REQUIRE(d.write_errno("idle", "all") == 0);
    REQUIRE(d.write_errno("idle", "all\n") == 0);
    REQUIRE(d.write_errno("idle", "60") == 0);
    REQUIRE(d.write_errno("idle", "0x10") == 0);
    CHECK(d.store->idle_calls == std::vector<std::uint64_t>{0, 0, 60, 16});
    CHECK(d.write_errno("idle", "soon") == EINVAL);
    CHECK(d.write_errno("idle", "-1") == EINVAL);
    CHECK(d.write_errno("idle", "") == EINVAL);
    CHECK(d.store->idle_calls.size() == 4);
}

TEST_CASE("recomp_algorithm: set on the live device, read in the kernel's format, misuse refused") {
    Device d;
    CHECK(d.read("recomp_algorithm").empty());
    CHECK(d.write_errno("recomp_algorithm", "algo=zstd priority=4") == EINVAL);
    CHECK(d.write_errno("recomp_algorithm", "algo=zstd priority=0") == EINVAL);
    CHECK(d.write_errno("recomp_algorithm", "priority=1") == EINVAL);
    CHECK(d.write_errno("recomp_algorithm", "algo=zstd priority=x") == EINVAL);
    CHECK(d.write_errno("recomp_algorithm", "algo=") == EINVAL);
    CHECK(d.write_errno("recomp_algorithm", "bogus=1 algo=zstd") == EINVAL);
    auto unknown = d.attrs->write("recomp_algorithm", "algo=nope");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == EINVAL);
    CHECK_THAT(unknown.error().message, Catch::Contains("zstd")); // lists what is available
    CHECK(d.read("recomp_algorithm").empty());

    REQUIRE(d.write_errno("recomp_algorithm", "algo=zstd") == 0);
    REQUIRE(d.write_errno("recomp_algorithm", "algo=lz4hc priority=3\n") == 0);
    std::string expected;
    for (const auto& info : available_codecs())
        expected += info.name == "zstd" ? "[zstd] " : std::string(info.name) + " ";
    std::string expected3;
    for (const auto& info : available_codecs())
        expected3 += info.name == "lz4hc" ? "[lz4hc] " : std::string(info.name) + " ";
    CHECK(d.read("recomp_algorithm") == "#1: " + expected + "\n#3: " + expected3);
    const auto set = d.store->recomp_algorithms();
    REQUIRE(set.size() == 2);
    CHECK(set[0].algorithm == "zstd");
    CHECK(set[1].priority == 3);
}

TEST_CASE("algorithm_params of a secondary priority: level and dict become a new generation") {
    Device d;
    CHECK(d.write_errno("algorithm_params", "priority=1 level=9") == EINVAL); // nothing at priority 1 yet
    REQUIRE(d.write_errno("recomp_algorithm", "algo=zstd priority=2") == 0);
    REQUIRE(d.write_errno("algorithm_params", "priority=2 level=9") == 0);
    REQUIRE(d.store->recomp_algorithms().size() == 1);
    CHECK(d.store->recomp_algorithms()[0].params.level == 9);
    REQUIRE(d.write_errno("algorithm_params", "algo=zstd level=12") == 0); // algo= finds priority 2
    CHECK(d.store->recomp_algorithms()[0].params.level == 12);
    CHECK(d.write_errno("algorithm_params", "priority=2 level=99") == EINVAL);
    auto missing = d.attrs->write("algorithm_params", "priority=2 dict=/nonexistent/dictionary");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == EINVAL);
    CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/dictionary"));
    CHECK(d.write_errno("algorithm_params", "priority=2 deflate.winbits=12") == EINVAL);
    CHECK(d.store->recomp_algorithms()[0].params.level == 12); // failures changed nothing
    // The same algorithm again is no new generation: its params stay.
    REQUIRE(d.write_errno("recomp_algorithm", "algo=zstd priority=2") == 0);
    CHECK(d.store->recomp_algorithms()[0].params.level == 12);
}

TEST_CASE("algorithm_params dict=PATH loads a user's dictionary for a secondary priority") {
    Device d;
    // A dictionary of repeated text is valid raw-content input for zstd.
    const std::string path = "/tmp/trueno-attributes-test-dict-" + std::to_string(::getpid());
    {
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 64; ++i) out << "the quick brown fox jumps over the lazy dog " << i << "\n";
    }
    REQUIRE(d.write_errno("recomp_algorithm", "algo=zstd") == 0);
    const int rc = d.write_errno("algorithm_params", "priority=1 level=5 dict=" + path);
    std::remove(path.c_str());
    REQUIRE(rc == 0);
    const auto set = d.store->recomp_algorithms();
    REQUIRE(set.size() == 1);
    REQUIRE(set[0].params.dictionary);
    CHECK(set[0].params.dict_path == path);
}

TEST_CASE("recompress: validated; runs on the worker thread; pages read back identical") {
    Device d("lz4", 4 << 20);
    auto none = d.attrs->write("recompress", "type=idle");
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == EINVAL);
    CHECK_THAT(none.error().message, Catch::Contains("no recompression algorithm configured"));
    CHECK(d.write_errno("recompress", "type=weird") == EINVAL);
    CHECK(d.write_errno("recompress", "threshold=3632") == EINVAL);
    CHECK(d.write_errno("recompress", "threshold=99999999999") == ERANGE);
    CHECK(d.write_errno("recompress", "max_pages=x") == EINVAL);
    CHECK(d.write_errno("recompress", "colour=blue") == EINVAL);
    CHECK(d.write_errno("recompress", "priority=9") == EINVAL);
    CHECK(d.read("recompress_status") == "none");

    std::vector<std::array<std::byte, kPageSize>> pages;
    for (unsigned i = 0; i < 256; ++i) {
        pages.push_back(text_page(i));
        REQUIRE(d.store->write_page(i, PageView(pages.back())).ok());
    }
    REQUIRE(d.write_errno("recomp_algorithm", "algo=zstd priority=2") == 0);
    // Nothing is idle yet: a run that finds nothing is still a finished run.
    REQUIRE(d.write_errno("recompress", "type=idle") == 0);
    REQUIRE(d.attrs->recompressor().wait_manual_idle(std::chrono::seconds(60)));
    CHECK(d.read("recompress_status").rfind("done tried=0 kept=0 ", 0) == 0);
    CHECK(d.write_errno("recompress", "priority=1") == EINVAL);  // nothing at priority 1
    CHECK(d.write_errno("recompress", "algo=lz4hc") == EINVAL);  // no such recomp algorithm
    const auto before = d.store->mm_stat().compr_data_size;
    REQUIRE(d.write_errno("idle", "all") == 0);
    REQUIRE(d.write_errno("recompress", "type=idle max_pages=100") == 0);
    REQUIRE(d.attrs->recompressor().wait_manual_idle(std::chrono::seconds(60)));
    const auto status = d.read("recompress_status");
    INFO(status);
    CHECK(status.rfind("done tried=100 ", 0) == 0);
    CHECK(d.store->mm_stat().compr_data_size < before);
    REQUIRE(d.write_errno("recompress", "algo=zstd") == 0); // the rest, every type
    REQUIRE(d.attrs->recompressor().wait_manual_idle(std::chrono::seconds(60)));
    CHECK(d.read("recompress_status").rfind("done tried=156 ", 0) == 0);
    for (unsigned i = 0; i < pages.size(); ++i) {
        std::array<std::byte, kPageSize> out{};
        REQUIRE(d.store->read_page(i, MutablePageView(out)).ok());
        REQUIRE(std::memcmp(out.data(), pages[i].data(), kPageSize) == 0);
    }
}

TEST_CASE("recompress_policy and object_stat: read and write") {
    Device d;
    CHECK(d.read("recompress_policy") == "off");
    CHECK(d.read("object_stat") == "       0        0        0        0        0");
    CHECK(d.write_errno("recompress_policy", "") == EINVAL);
    CHECK(d.write_errno("recompress_policy", "quick") == EINVAL);
    CHECK(d.write_errno("recompress_policy", "balanced cpu=0") == EINVAL);
    CHECK(d.write_errno("recompress_policy", "balanced colour=red") == EINVAL);
    REQUIRE(d.write_errno("recompress_policy", "balanced age=1h interval=600 rate=100 cpu=5") == 0);
    CHECK(d.read("recompress_policy").rfind("balanced age=3600 interval=600 rate=100 cpu=5 priority=3 type=idle", 0) == 0);
    CHECK(d.read("recomp_algorithm").rfind("#3: ", 0) == 0); // the policy's codec is visible
    REQUIRE(d.write_errno("recompress_policy", "off\n") == 0);
    CHECK(d.read("recompress_policy").rfind("off", 0) == 0);
}

TEST_CASE("streams are fixed") {
    Device d;
    CHECK(d.write_errno("max_comp_streams", "4") == EBUSY);
    CHECK(d.read("max_comp_streams") == "2");
}

TEST_CASE("writeback attributes: the kernel's formats and errors") {
    Device d("lz4", 64 * kPageSize);
    CHECK(d.read("backing_dev") == "none");
    CHECK(d.read("writeback_limit") == "0");
    CHECK(d.read("writeback_limit_enable") == "0");
    // backing_dev takes a block device only, as the kernel's.
    CHECK(d.write_errno("backing_dev", "/dev/null") == ENOTBLK);
    CHECK(d.write_errno("backing_dev", "/nonexistent/disk") == ENOENT);
    CHECK(d.write_errno("backing_dev", "none\n") == 0);
    CHECK(d.read("backing_dev") == "none");
    // No backing device: ENODEV, once the request itself is well formed.
    CHECK(d.write_errno("writeback", "idle") == ENODEV);
    CHECK(d.write_errno("writeback", "page_indexes=1-3 type=huge") == ENODEV);
    CHECK(d.write_errno("writeback", "lazy") == EINVAL);
    CHECK(d.write_errno("writeback", "page_index=64") == ERANGE);
    CHECK(d.write_errno("writeback", "page_indexes=5-2") == ERANGE);
    CHECK(d.write_errno("writeback", "color=red") == EINVAL);
    // The limit: a number of 4 KiB blocks, and an on/off switch (any non-zero number is on).
    CHECK(d.write_errno("writeback_limit", "12x") == EINVAL);
    CHECK(d.write_errno("writeback_limit", "400\n") == 0);
    CHECK(d.read("writeback_limit") == "400");
    CHECK(d.write_errno("writeback_limit_enable", "7") == 0);
    CHECK(d.read("writeback_limit_enable") == "1");
    CHECK(d.write_errno("writeback_limit_enable", "0") == 0);
    CHECK(d.read("writeback_limit_enable") == "0");
}

TEST_CASE("writeback through the attributes moves pages out and bd_stat counts them") {
    Device d("lz4", 64 * kPageSize);
    std::vector<std::array<std::byte, kPageSize>> pages;
    for (unsigned i = 0; i < 64; ++i) {
        pages.push_back(text_page(i));
        REQUIRE(d.store->write_page(i, PageView(pages.back())).ok());
    }
    // A regular file stands in for the block device (the store takes one; the attribute not).
    char path[] = "/var/tmp/trueno-attr-backing-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 256 * 4096) == 0);
    ::close(fd);
    REQUIRE(d.store->set_backing_device(path).ok());
    CHECK(d.read("backing_dev") == path);
    CHECK(d.write_errno("writeback", "page_index=3") == 0);
    CHECK(d.read("bd_stat") == "       1        0        1");
    CHECK(d.write_errno("writeback", "page_indexes=10-19 page_index=30") == 0);
    CHECK(d.write_errno("idle", "all") == 0);
    CHECK(d.write_errno("writeback", "type=idle\n") == 0);
    std::istringstream bd(d.read("bd_stat"));
    std::uint64_t count = 0, reads = 0, writes = 0;
    bd >> count >> reads >> writes;
    CHECK(count == 64);
    CHECK(writes < count);        // packed
    CHECK(d.mm_fields()[1] == 0); // compr_data_size: nothing left in RAM
    for (unsigned i = 0; i < 64; ++i) {
        std::array<std::byte, kPageSize> out{};
        REQUIRE(d.store->read_page(i, MutablePageView(out)).ok());
        CHECK(out == pages[i]);
    }
    // Changing the backing device while pages are on it: EBUSY.
    CHECK(d.write_errno("backing_dev", "none") == EBUSY);
    // The limit, enabled and spent: EIO.
    for (unsigned i = 0; i < 64; ++i)
        REQUIRE(d.store->write_page(i, PageView(pages[i])).ok());
    CHECK(d.write_errno("writeback_limit", "1") == 0);
    CHECK(d.write_errno("writeback_limit_enable", "1") == 0);
    CHECK(d.write_errno("writeback", "page_indexes=0-63") == EIO);
    CHECK(d.read("writeback_limit") == "0");
    CHECK(d.write_errno("writeback", "page_indexes=0-63") == EIO);
    ::unlink(path);
}

TEST_CASE(
    "room on demand: at its mem_limit a device with the policy on writes its coldest pages back",
    "[room]") {
    Device d("lz4", 1024 * kPageSize);
    char path[] = "/var/tmp/trueno-attr-backing-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 2048 * 4096) == 0);
    ::close(fd);
    REQUIRE(d.write_errno("mem_limit", "1M") == 0);
    // Pages that compress about 2:1 (random bytes in half of each), until the limit refuses one.
    std::vector<std::array<std::byte, kPageSize>> pages;
    std::uint64_t seed = 88172645463325252ull;
    std::uint64_t written = 0;
    for (; written < 1024; ++written) {
        std::array<std::byte, kPageSize> page = text_page(static_cast<unsigned>(written));
        for (std::size_t i = 0; i < kPageSize / 2; ++i) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            page[i] = static_cast<std::byte>(seed);
        }
        pages.push_back(page);
        if (!d.store->write_page(written, PageView(pages.back())).ok())
            break;
    }
    REQUIRE(written < 1024); // the limit was reached
    pages.pop_back();
    const auto now = std::chrono::steady_clock::now();
    // Not armed without the policy, or without a backing device: writes fail at the limit.
    CHECK_FALSE(d.attrs->make_room("test", now));
    CHECK_FALSE(d.store->limit_waits());
    REQUIRE(d.write_errno("writeback_policy", "on age=1d used=0") == 0);
    CHECK_FALSE(d.attrs->make_room("test", now));
    REQUIRE(d.store->set_backing_device(path).ok());
    const auto wait_for_passes = [&](std::uint64_t passes) {
        for (int i = 0; i < 1000 && (d.attrs->room_passes() < passes ||
                                     d.read("writeback_policy").find("last room pass: pages=") ==
                                         std::string::npos);
             ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(d.attrs->room_passes() == passes);
    };
    // A budget of one block a day: the first pass writes one, then the day's budget is spent
    // and it is not armed: writes fail at the limit again.
    REQUIRE(d.write_errno("writeback_policy", "on age=1d used=0 budget=4K") == 0);
    CHECK(d.attrs->make_room("test", now));
    wait_for_passes(1);
    CHECK(d.read("bd_stat") == "       1        0        1");
    CHECK_FALSE(d.attrs->make_room("test", now));
    CHECK_FALSE(d.store->limit_waits());
    CHECK(d.read("writeback_policy").find("last room pass: not run: the day's budget") !=
          std::string::npos);
    // With budget left it is armed: writes at the limit wait, and a pass makes room.
    REQUIRE(d.write_errno("writeback_policy", "on age=1d used=0 budget=64M") == 0);
    const std::uint64_t used_before = d.mm_fields()[2];
    CHECK(d.attrs->make_room("test", now + std::chrono::hours(25))); // a new budget day
    CHECK(d.store->limit_waits());
    wait_for_passes(2);
    const std::string policy = d.read("writeback_policy");
    INFO(policy);
    CHECK(policy.find("last room pass: pages=") != std::string::npos);
    const auto mm = d.mm_fields();
    CAPTURE(used_before, mm[2], mm[3]);
    CHECK(mm[2] <= mm[3] * kRoomTargetPercent / 100 + 8 * kPageSize); // down to the target
    std::istringstream bd(d.read("bd_stat"));
    std::uint64_t count = 0;
    bd >> count;
    CHECK(count > 0);
    // Room for the write the limit refused, and every page reads back.
    REQUIRE(d.store->write_page(pages.size(), PageView(pages.back())).ok());
    for (std::size_t i = 0; i < pages.size(); ++i) {
        std::array<std::byte, kPageSize> out{};
        REQUIRE(d.store->read_page(i, MutablePageView(out)).ok());
        CHECK(out == pages[i]);
    }
    // The policy off disarms it.
    REQUIRE(d.write_errno("writeback_policy", "off") == 0);
    CHECK_FALSE(d.attrs->make_room("test"));
    CHECK_FALSE(d.store->limit_waits());
    ::unlink(path);
}

TEST_CASE("no attribute write disturbs stored data") {
    Device d;
    std::vector<std::array<std::byte, kPageSize>> pages;
    for (unsigned i = 0; i < 16; ++i) {
        pages.push_back(text_page(i));
        REQUIRE(d.store->write_page(i, PageView(pages.back())).ok());
    }
    const std::pair<const char*, const char*> writes[] = {
        {"compact", "1"}, {"idle", "all"}, {"mem_used_max", "0"}, {"mem_limit", "1G"}, {"mem_limit", "0"},
        {"disksize", "2M"}, {"comp_algorithm", "zstd"}, {"algorithm_params", "level=9"}, {"recompress", "type=idle"},
        {"recomp_algorithm", "algo=zstd"}, {"algorithm_params", "priority=1 level=19"}, {"idle", "all"},
        {"recompress", "type=idle"}, {"recompress_policy", "strongest age=0"},
    };
    for (const auto& [name, value] : writes) (void)d.attrs->write(name, value);
    REQUIRE(d.attrs->recompressor().wait_manual_idle(std::chrono::seconds(60)));
    for (unsigned i = 0; i < 16; ++i) {
        std::array<std::byte, kPageSize> out{};
        REQUIRE(d.store->read_page(i, MutablePageView(out)).ok());
        CHECK(std::memcmp(out.data(), pages[i].data(), kPageSize) == 0);
    }
}

TEST_CASE("compact and idle run on the device's worker: reads and other writes go on meanwhile") {
    Device d;
    auto gate = std::make_shared<testing::Gate>();
    testing::GateOpener opener{gate};
    d.store->compact_gate = gate;
    testing::DoneLog log;

    d.attrs->write_async("compact", "1", log.recorder("compact"));
    REQUIRE(gate->wait_reached()); // compacting now, held there
    CHECK_FALSE(log.has("compact"));
    // The device answers while its compaction runs.
    CHECK(d.attrs->read_all().count("mm_stat") == 1);
    CHECK(d.write_errno("mem_limit", "1M") == 0);
    CHECK(d.mm_fields()[3] == 1048576);
    // A bad value is refused at once, on the caller's thread; a good one queues behind.
    d.attrs->write_async("idle", "soon", log.recorder("bad idle"));
    CHECK(log.wait("bad idle", std::chrono::milliseconds(0)) == EINVAL);
    d.attrs->write_async("idle", "all", log.recorder("idle"));
    CHECK_FALSE(log.has("idle"));

    gate->open();
    CHECK(log.wait("compact") == 0);
    CHECK(log.wait("idle") == 0);
    CHECK(d.store->compact_calls == 1);
    CHECK(d.store->idle_calls == std::vector<std::uint64_t>{0});
}

TEST_CASE("the device goes while its compaction runs: that one finishes, queued writes get ENODEV") {
    Device d;
    auto gate = std::make_shared<testing::Gate>();
    testing::GateOpener opener{gate};
    d.store->compact_gate = gate;
    testing::DoneLog log;
    d.attrs->write_async("compact", "", log.recorder("compact"));
    REQUIRE(gate->wait_reached());
    d.attrs->write_async("idle", "60", log.recorder("idle"));

    std::atomic<bool> gone{false};
    std::thread remover([&] {
        d.attrs.reset(); // as the device manager's remove() does
        gone = true;
    });
    // Queued work is cancelled before the running one is waited for.
    CHECK(log.wait("idle") == ENODEV);
    CHECK_FALSE(gone.load()); // it cannot be gone: its compaction is still held in the gate
    CHECK_FALSE(log.has("compact"));
    gate->open();
    remover.join();
    CHECK(log.wait("compact") == 0);
    CHECK(d.store->compact_calls == 1);
    CHECK(d.store->idle_calls.empty());
}

TEST_CASE("maintain() compacts a store that holds much more memory than its data, once writes are quiet",
          "[auto-compaction]") {
    Device d("lz4", std::uint64_t{64} << 20);
    // Text that compresses about 3:1, then every other page discarded: the objects left are
    // spread over twice the memory they need.
    constexpr std::uint64_t kPages = 8192;
    std::vector<std::byte> page(4096);
    for (std::uint64_t i = 0; i < kPages; ++i) {
        for (std::size_t at = 0; at < page.size(); at += 64) {
            char line[128] = {}; // the text is 57 bytes; the rest of the 64 stays zero
            std::snprintf(line, sizeof line, "page %06llu line %02zu: the quick brown fox %08llx .......",
                          static_cast<unsigned long long>(i), at / 64,
                          static_cast<unsigned long long>((i * 2654435761u + at) & 0xffffffff));
            std::memcpy(page.data() + at, line, 64);
        }
        REQUIRE(d.store->write_bytes(i * 4096, page).ok());
    }
    for (std::uint64_t i = 0; i < kPages; i += 2) d.store->discard(i, 1);
    const auto before = d.mm_fields(); // [1] compr_data_size, [2] mem_used_total, [6] pages_compacted
    INFO("mm_stat before: compr " << before[1] << ", mem_used " << before[2]);
    REQUIRE(before[2] - before[1] >= (std::uint64_t{1} << 20));

    const auto t = std::chrono::steady_clock::now();
    d.attrs->maintain("test", t); // the baseline of reserve misses
    d.attrs->maintain("test", t + std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(d.attrs->auto_compactions() == 0); // writes quiet for 5 s only
    d.attrs->maintain("test", t + std::chrono::seconds(11));
    for (int i = 0; i < 300 && d.attrs->auto_compactions() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(d.attrs->auto_compactions() == 1);

    const auto after = d.mm_fields();
    INFO("mm_stat after: compr " << after[1] << ", mem_used " << after[2]);
    CHECK(after[1] == before[1]);
    CHECK(after[6] > before[6]); // pages_compacted counts what went back
    // Within 5 % of the data, as zsmalloc's is after compaction.
    CHECK(static_cast<double>(after[2]) <= 1.05 * static_cast<double>(after[1]));
    // Nothing is lost.
    std::vector<std::byte> back(4096);
    for (std::uint64_t i = 1; i < kPages; i += 2) {
        REQUIRE(d.store->read_bytes(i * 4096, back).ok());
        char expect[32];
        std::snprintf(expect, sizeof expect, "page %06llu line 00", static_cast<unsigned long long>(i));
        REQUIRE(std::memcmp(back.data(), expect, std::strlen(expect)) == 0);
    }
    // Not again within the minute, whatever the slack.
    d.attrs->maintain("test", t + std::chrono::seconds(30));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(d.attrs->auto_compactions() == 1);
}

TEST_CASE(
    "writeback_policy: set, read back, kept with the store, and its passes run from maintain()") {
    Device d("lz4", 64 * kPageSize);
    CHECK(d.read("writeback_policy") == "off");
    CHECK(d.write_errno("writeback_policy", "sometimes") == EINVAL);
    CHECK(d.write_errno("writeback_policy", "on age=1x") == EINVAL);
    REQUIRE(d.write_errno("writeback_policy", "on age=0 interval=1h budget=1M used=0\n") == 0);
    CHECK(d.read("writeback_policy") == "on age=0 interval=3600 budget=1048576 used=0");
    CHECK(d.store->saved_writeback_policy() == "on age=0 interval=3600 budget=1048576 used=0");
    // A new set of attributes over the same store (a restarted daemon) has it again.
    ZramAttributes again(d.store, d.config);
    CHECK(again.read("writeback_policy")->rfind("on age=0 interval=3600", 0) == 0);

    // Due at once; without a backing device it says so and waits for the next interval.
    auto now = std::chrono::steady_clock::now();
    d.attrs->maintain("test", now);
    CHECK(d.read("writeback_policy").find("last pass: not run: no backing device") !=
          std::string::npos);

    std::vector<std::array<std::byte, kPageSize>> pages;
    for (unsigned i = 0; i < 64; ++i) {
        pages.push_back(text_page(i));
        REQUIRE(d.store->write_page(i, PageView(pages.back())).ok());
    }
    char path[] = "/var/tmp/trueno-attr-policy-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 256 * 4096) == 0);
    ::close(fd);
    REQUIRE(d.store->set_backing_device(path).ok());
    d.attrs->maintain("test", now + std::chrono::minutes(30)); // not due yet
    CHECK(d.store->bd_stat().count == 0);
    d.attrs->maintain("test", now + std::chrono::hours(1));
    // The pass runs on the device's worker: wait for its line.
    std::string text;
    for (int i = 0; i < 500; ++i) {
        text = d.read("writeback_policy");
        if (text.find("last pass: pages=") != std::string::npos)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    INFO(text);
    CHECK(text.find("last pass: pages=64 ") != std::string::npos);
    CHECK(d.store->bd_stat().count == 64);
    for (unsigned i = 0; i < 64; ++i) {
        std::array<std::byte, kPageSize> out{};
        REQUIRE(d.store->read_page(i, MutablePageView(out)).ok());
        CHECK(out == pages[i]);
    }
    REQUIRE(d.write_errno("writeback_policy", "off") == 0);
    CHECK(d.read("writeback_policy") == "off");
    CHECK(d.store->saved_writeback_policy().empty());
    ::unlink(path);
}

TEST_CASE("a fragmented backing device is repacked from maintain() at most once a minute, and by "
          "compact") {
    constexpr unsigned kPages = 900;
    // Text with a changed byte every 16: each page differs and compresses about 2:1.
    auto varied_page = [](unsigned seed) {
        std::array<std::byte, kPageSize> page{};
        std::uint32_t x = seed * 2654435761u + 1;
        for (std::size_t i = 0; i < page.size(); ++i) {
            if (i % 16 == 0)
                x = x * 1664525u + 1013904223u;
            page[i] =
                static_cast<std::byte>(i % 16 == 0 ? x >> 24 : "the quick brown fox "[i % 20]);
        }
        return page;
    };
    char path[] = "/var/tmp/trueno-attr-repack-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 2048 * 4096) == 0);
    ::close(fd);
    // Written back, then two pages of three discarded: the blocks keep a third of their bytes.
    auto fragment = [&](Device& d) {
        for (unsigned i = 0; i < kPages; ++i) {
            const auto page = varied_page(i);
            REQUIRE(d.store->write_page(i, PageView(page)).ok());
        }
        REQUIRE(d.store->set_backing_device(path).ok());
        REQUIRE(d.store->writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
        for (unsigned i = 0; i < kPages; ++i)
            if (i % 3 != 0)
                d.store->discard(i, 1);
        const BackingUsage usage = d.store->backing_usage();
        INFO(usage.used_blocks << " blocks in use, " << usage.live_bytes << " bytes live, "
                               << d.store->bd_stat().count << " pages written back");
        REQUIRE(backing_fragmented(usage));
    };
    auto check_kept = [&](Device& d) {
        for (unsigned i = 0; i < kPages; i += 3) {
            std::array<std::byte, kPageSize> out{};
            REQUIRE(d.store->read_page(i, MutablePageView(out)).ok());
            REQUIRE(out == varied_page(i));
        }
    };
    SECTION("maintain()") {
        Device d("lz4", kPages * kPageSize);
        fragment(d);
        const BackingUsage before = d.store->backing_usage();
        const auto now = std::chrono::steady_clock::now();
        d.attrs->maintain("test", now);
        for (int i = 0; i < 500 && d.store->backing_usage().used_blocks == before.used_blocks; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const BackingUsage after = d.store->backing_usage();
        INFO(before.used_blocks << " blocks before, " << after.used_blocks << " after");
        CHECK(after.used_blocks < before.used_blocks);
        CHECK(after.live_bytes == before.live_bytes);
        CHECK(!backing_fragmented(after));
        check_kept(d);
        // Fragmented again at once: not repacked again within the minute, then it is.
        for (unsigned i = 0; i < kPages; i += 3)
            if (i % 2 == 0)
                d.store->discard(i, 1);
        const BackingUsage again = d.store->backing_usage();
        if (backing_fragmented(again)) {
            const std::uint64_t writes = d.store->bd_stat().writes;
            d.attrs->maintain("test", now + std::chrono::seconds(30));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            CHECK(d.store->bd_stat().writes == writes);
            d.attrs->maintain("test", now + std::chrono::seconds(61));
            for (int i = 0; i < 500 && d.store->bd_stat().writes == writes; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            CHECK(d.store->bd_stat().writes > writes);
        }
    }
    SECTION("compact") {
        Device d("lz4", kPages * kPageSize);
        fragment(d);
        const BackingUsage before = d.store->backing_usage();
        REQUIRE(d.write_errno("compact", "1") == 0); // returns when done
        CHECK(d.store->backing_usage().used_blocks < before.used_blocks);
        check_kept(d);
    }
    ::unlink(path);
}
