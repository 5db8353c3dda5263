// The textfile writer: content and mode, a reader never sees a partial file, errors for a
// directory that is missing or not a directory, and a failed write leaves the old file.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../varlink/temp_dir.hpp"
#include "trueno/metrics/textfile_writer.hpp"

using trueno::metrics::check_textfile_directory;
using trueno::metrics::write_textfile;
using trueno::testing::TempDir;

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("write_textfile writes the content, readable by all, and leaves no temporary file", "[textfile]") {
    TempDir dir;
    const auto file = dir.path() / "trueno-zram.prom";
    const auto old_mask = ::umask(077); // the collector's user must read it whatever the umask
    const auto st = write_textfile(file, "a 1\n");
    ::umask(old_mask);
    INFO((st ? "" : st.error().message));
    REQUIRE(st.ok());
    CHECK(read_file(file) == "a 1\n");
    struct stat info {};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0644);
    REQUIRE(write_textfile(file, "b 2\n").ok());
    CHECK(read_file(file) == "b 2\n");
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path()))
        ++entries;
    CHECK(entries == 1);
}

TEST_CASE("a reader sees the old file or the new one, never a part of one", "[textfile]") {
    TempDir dir;
    const auto file = dir.path() / "m.prom";
    // Two contents of different lengths: a torn read is shorter, longer or mixed.
    const std::string first(96 * 1024, 'a');
    const std::string second(160 * 1024, 'b');
    REQUIRE(write_textfile(file, first).ok());
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, torn{0};
    std::thread reader([&] {
        while (!done.load()) {
            const auto seen = read_file(file);
            if (seen != first && seen != second)
                torn.fetch_add(1);
            reads.fetch_add(1);
        }
    });
    for (int i = 0; i < 60; ++i)
        REQUIRE(write_textfile(file, i % 2 ? first : second).ok());
    done = true;
    reader.join();
    CHECK(reads.load() > 0);
    CHECK(torn.load() == 0);
}

TEST_CASE("a directory that does not exist, or is a file, is a clear error", "[textfile]") {
    TempDir dir;
    const auto missing = dir.path() / "no-such-dir" / "trueno-zram.prom";
    auto st = write_textfile(missing, "x 1\n");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == ENOENT);
    CHECK(st.error().message.find((dir.path() / "no-such-dir").string() + ", does not exist") != std::string::npos);
    CHECK(check_textfile_directory(missing).error().code == ENOENT);

    std::ofstream(dir.path() / "plain") << "x";
    st = write_textfile(dir.path() / "plain" / "trueno-zram.prom", "x 1\n");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == ENOTDIR);
    CHECK(check_textfile_directory(dir.path() / "ok.prom").ok());
}

TEST_CASE("a failed write keeps the previous file and removes nothing else", "[textfile]") {
    TempDir dir;
    const auto file = dir.path() / "m.prom";
    REQUIRE(write_textfile(file, "old 1\n").ok());
    // The temporary file's name taken by a directory: creating it fails.
    std::filesystem::create_directory(dir.path() / ".m.prom.tmp");
    const auto st = write_textfile(file, "new 2\n");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find(".m.prom.tmp") != std::string::npos);
    CHECK(read_file(file) == "old 1\n");
}
