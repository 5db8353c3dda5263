// Smoke test of the trueno-zram-bench executable on a few hundred real corpus pages: its JSON
// must hold every documented field with values consistent with each other and with the input,
// and bad input must fail with exit status 2 and a message. Skips (exit 77, meson's skip code)
// with a printed reason when the corpus or the zstd tool is missing.
#include "catch_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kSmokePages = 300;

struct Env {
    std::string exe;
    std::string corpus;
};
Env g_env; // set once in main() before any test runs

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
};

// Runs a shell command line, capturing stdout and stderr (through a temporary file).
Outcome run(const std::string& command) {
    char err_path[] = "/tmp/trueno-bench-smoke-XXXXXX";
    int fd = ::mkstemp(err_path);
    REQUIRE(fd >= 0);
    ::close(fd);
    Outcome o;
    FILE* pipe = ::popen((command + " 2>" + err_path).c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) o.out.append(buf, n);
    int raw = ::pclose(pipe);
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    std::ifstream err_file(err_path);
    std::stringstream ss;
    ss << err_file.rdbuf();
    o.err = ss.str();
    ::unlink(err_path);
    return o;
}

Outcome bench(const std::string& args) { return run(shell_quote(g_env.exe) + " " + args); }

nlohmann::json bench_json(const std::string& args) {
    Outcome o = bench("--json " + args);
    INFO("stderr: " << o.err);
    REQUIRE(o.status == 0);
    REQUIRE(o.err.empty()); // no progress bar or chatter when stderr is not a terminal
    // Exactly one JSON object on one line.
    REQUIRE(std::count(o.out.begin(), o.out.end(), '\n') == 1);
    return nlohmann::json::parse(o.out);
}

class TempPath {
public:
    TempPath() {
        char p[] = "/tmp/trueno-bench-smoke-XXXXXX";
        int fd = ::mkstemp(p);
        if (fd >= 0) ::close(fd);
        path_ = p;
    }
    ~TempPath() { ::unlink(path_.c_str()); }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string corpus_args(int pages = kSmokePages) {
    return "--input " + shell_quote(g_env.corpus) + " --pages " + std::to_string(pages);
}

} // namespace

TEST_CASE("JSON output has every field, consistent with the input and itself") {
    auto j = bench_json(corpus_args() + " --algorithm lz4");
    for (const char* key : {"algorithm", "params", "threads", "pages", "orig_data_size", "compr_data_size",
                            "mem_used_total", "same_pages", "huge_pages", "ratio", "write_mb_s", "read_mb_s",
                            "read_p50_us", "read_p99_us", "write_p99_us", "allocator_overhead_pct", "verified"}) {
        INFO(key);
        CHECK(j.contains(key));
    }
    CHECK(j["algorithm"] == "lz4");
    CHECK(j["threads"] == 1);
    CHECK(j["pages"] == kSmokePages);
    CHECK(j["verified"] == true);
    // mm_stat semantics: every written page counts in orig_data_size, same-filled ones included.
    CHECK(j["orig_data_size"].get<std::uint64_t>() == std::uint64_t{kSmokePages} * 4096);
    auto orig = j["orig_data_size"].get<double>();
    auto compr = j["compr_data_size"].get<double>();
    auto used = j["mem_used_total"].get<double>();
    CHECK(compr > 0);
    CHECK(compr < orig);
    CHECK(used > 0);
    CHECK(j["same_pages"].get<std::uint64_t>() <= kSmokePages);
    CHECK(j["huge_pages"].get<std::uint64_t>() <= kSmokePages);
    CHECK(j["ratio"].get<double>() == Approx(orig / used).epsilon(1e-3));
    CHECK(j["ratio"].get<double>() > 1.0); // real heap pages compress
    CHECK(j["allocator_overhead_pct"].get<double>() == Approx((used - compr) / compr * 100).margin(0.01));
    CHECK(j["write_mb_s"].get<double>() > 0);
    CHECK(j["read_mb_s"].get<double>() > 0);
    CHECK(j["read_p50_us"].get<double>() > 0);
    CHECK(j["read_p99_us"].get<double>() >= j["read_p50_us"].get<double>());
    CHECK(j["write_p99_us"].get<double>() > 0);
}

TEST_CASE("thread count changes speed, never what is stored") {
    auto one = bench_json(corpus_args() + " --algorithm zstd --params level=3 --threads 1");
    auto two = bench_json(corpus_args() + " --algorithm zstd --params level=3 --threads 2");
    CHECK(two["threads"] == 2);
    CHECK(one["params"] == "level=3");
    CHECK(two["verified"] == true);
    CHECK(one["orig_data_size"] == two["orig_data_size"]);
    CHECK(one["compr_data_size"] == two["compr_data_size"]);
    CHECK(one["same_pages"] == two["same_pages"]);
}

TEST_CASE("batch write mode stores the same and reports no per-page write latency") {
    auto split = bench_json(corpus_args() + " --algorithm lzo-rle --threads 2");
    auto batch = bench_json(corpus_args() + " --algorithm lzo-rle --threads 2 --write-mode batch");
    CHECK(batch["write_mode"] == "batch");
    CHECK(batch["verified"] == true);
    CHECK(batch["compr_data_size"] == split["compr_data_size"]);
    CHECK(batch["write_p99_us"].is_null());
    CHECK(batch["read_p99_us"].get<double>() > 0);
}

TEST_CASE("raw pages and their zstd stream are the same corpus") {
    TempPath raw;
    Outcome dec = run("zstd -dc " + shell_quote(g_env.corpus) + " | head -c " + std::to_string(kSmokePages * 4096) +
                      " > " + shell_quote(raw.path()));
    REQUIRE(dec.status == 0);
    auto from_zstd = bench_json(corpus_args() + " --algorithm lz4");
    auto from_raw = bench_json("--input " + shell_quote(raw.path()) + " --algorithm lz4");
    CHECK(from_raw["pages"] == kSmokePages);
    CHECK(from_raw["orig_data_size"] == from_zstd["orig_data_size"]);
    CHECK(from_raw["compr_data_size"] == from_zstd["compr_data_size"]);
    CHECK(from_raw["same_pages"] == from_zstd["same_pages"]);
}

TEST_CASE("the table output names the ratio and the verification") {
    Outcome o = bench(corpus_args(64) + " --algorithm lz4");
    REQUIRE(o.status == 0);
    CHECK(o.out.find("ratio") != std::string::npos);
    CHECK(o.out.find("every page read back identical") != std::string::npos);
}

TEST_CASE("bad input: exit status 2 and a message") {
    SECTION("unknown algorithm: the library's message") {
        Outcome o = bench(corpus_args(8) + " --algorithm nosuch");
        CHECK(o.status == 2);
        CHECK(o.err.find("nosuch") != std::string::npos);
        CHECK(o.out.empty());
    }
    SECTION("bad params") {
        Outcome o = bench(corpus_args(8) + " --algorithm lz4 --params 'level=abc'");
        CHECK(o.status == 2);
        CHECK_FALSE(o.err.empty());
    }
    SECTION("a trailing partial page") {
        TempPath raw;
        REQUIRE(run("head -c 10000 /dev/urandom > " + shell_quote(raw.path())).status == 0);
        Outcome o = bench("--input " + shell_quote(raw.path()));
        CHECK(o.status == 2);
        CHECK(o.err.find("partial page") != std::string::npos);
    }
    SECTION("missing input file") {
        Outcome o = bench("--input /nonexistent/pages.zst");
        CHECK(o.status == 2);
        CHECK(o.err.find("/nonexistent/pages.zst") != std::string::npos);
    }
    SECTION("disksize smaller than the corpus") {
        Outcome o = bench(corpus_args(8) + " --disksize 4K");
        CHECK(o.status == 2);
        CHECK(o.err.find("smaller than the corpus") != std::string::npos);
    }
    SECTION("no --input") {
        Outcome o = bench("");
        CHECK(o.status == 2);
    }
}

TEST_CASE("--help and --version") {
    Outcome help = bench("--help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--algorithm") != std::string::npos);
    Outcome version = bench("--version");
    CHECK(version.status == 0);
    CHECK(version.out.find(TRUENO_VERSION) != std::string::npos);
}

int main(int argc, char** argv) {
    const char* exe = std::getenv("TRUENO_BENCH_EXE");
    const char* corpus = std::getenv("TRUENO_CORPUS");
    if (!exe || !corpus) {
        std::cerr << "bench smoke test: TRUENO_BENCH_EXE and TRUENO_CORPUS must be set (meson test sets them)\n";
        return 1;
    }
    if (::access(corpus, R_OK) != 0) {
        std::cout << "SKIP: corpus " << corpus << " is not readable (it lives in shared/corpus beside the repo)\n";
        return 77;
    }
    if (std::system("command -v zstd >/dev/null 2>&1") != 0) {
        std::cout << "SKIP: the zstd command is needed to make a raw copy of the corpus\n";
        return 77;
    }
    g_env = {exe, corpus};
    return trueno::test::run_tests(argc, argv);
}
