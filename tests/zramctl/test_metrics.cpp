// trueno-zramctl --metrics: the OpenMetrics text of the daemon's devices (golden file), one
// device, and --http: one request in, one response out, with its status codes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fake_daemon.hpp"
#include "http_exchange.hpp"
#include "trueno/metrics/exposition.hpp"

using namespace trueno;
using namespace trueno::zramctl;
using namespace trueno::zramctl::testing;

namespace {

std::string golden(const std::string& name, const std::string& actual) {
    const std::string path = std::string(ZRAMCTL_GOLDEN_DIR) + "/" + name;
    if (std::getenv("TRUENO_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        FAIL_CHECK("golden file rewritten: " << path);
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream expected;
    expected << in.rdbuf();
    return expected.str();
}

Environment environment(std::shared_ptr<FakeState> state, std::string request) {
    auto env = fake_environment(std::move(state));
    env.http_request_head = [request] { return Result<std::string>(request); };
    return env;
}

std::shared_ptr<FakeState> sample_state() {
    auto state = std::make_shared<FakeState>();
    state->devices = sample_devices();
    return state;
}

std::string body_of(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

} // namespace

TEST_CASE("metrics: prints every device as OpenMetrics text", "[metrics]") {
    auto r = run_cli({"--metrics"}, fake_environment(sample_state()));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out == golden("metrics.txt", r.out));
    CHECK(r.out.size() > 1000);
    CHECK(r.out.substr(r.out.size() - 6) == "# EOF\n");
}

TEST_CASE("metrics: DEVICE prints that device only; --http needs --metrics", "[metrics]") {
    auto r = run_cli({"--metrics", "/dev/ublkb1"}, fake_environment(sample_state()));
    REQUIRE(r.status == 0);
    CHECK(r.out.find("device=\"/dev/ublkb1\"") != std::string::npos);
    CHECK(r.out.find("device=\"/dev/ublkb0\"") == std::string::npos);
    CHECK(r.out.find("trueno_zram_mem_limit_bytes{device=\"/dev/ublkb1\"} 1048576\n") != std::string::npos);

    auto bad = run_cli({"--http"}, fake_environment(sample_state()));
    CHECK(bad.status == 1);
    CHECK(bad.err.find("--http must be combined with --metrics") != std::string::npos);
    auto exclusive = run_cli({"--metrics", "--stat", "/dev/ublkb0"}, fake_environment(sample_state()));
    CHECK(exclusive.status == 1);
    CHECK(exclusive.err.find("option --metrics cannot be combined with --stat") != std::string::npos);
}

TEST_CASE("metrics over http: answers GET /metrics with 200 and the OpenMetrics content type", "[metrics][http]") {
    auto plain = run_cli({"--metrics"}, fake_environment(sample_state()));
    auto r = run_cli({"--metrics", "--http"},
                     environment(sample_state(), "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"));
    REQUIRE(r.status == 0);
    CHECK(r.out.rfind("HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; "
                      "charset=utf-8\r\n",
                      0) == 0);
    CHECK(body_of(r.out) == plain.out);
    CHECK(r.out.find("\r\nContent-Length: " + std::to_string(plain.out.size()) + "\r\n") != std::string::npos);
    CHECK(r.out.find("\r\nConnection: close\r\n") != std::string::npos);

    auto head = run_cli({"--metrics", "--http"}, environment(sample_state(), "HEAD /metrics?x=1 HTTP/1.0\n\n"));
    REQUIRE(head.status == 0);
    CHECK(head.out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(body_of(head.out).empty());
    CHECK(head.out.find("Content-Length: " + std::to_string(plain.out.size())) != std::string::npos);
}

TEST_CASE("metrics over http: 404 for other paths, 405 for other methods, 400 for garbage, 503 without daemon",
          "[metrics][http]") {
    auto other = run_cli({"--metrics", "--http"}, environment(sample_state(), "GET /favicon.ico HTTP/1.1\r\n\r\n"));
    CHECK(other.out.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    auto post = run_cli({"--metrics", "--http"}, environment(sample_state(), "POST /metrics HTTP/1.1\r\n\r\n"));
    CHECK(post.out.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
    CHECK(post.out.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    auto garbage = run_cli({"--metrics", "--http"}, environment(sample_state(), "hello\r\n\r\n"));
    CHECK(garbage.out.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    for (const auto& r : {other, post, garbage}) {
        CHECK(r.status == 0);
        CHECK(r.out.find("trueno_zram") == std::string::npos);
    }

    auto down = sample_state();
    down->everything_error = make_error(kDaemonUnreachable, "cannot connect to trueno-zramd");
    auto r = run_cli({"--metrics", "--http"}, environment(down, "GET /metrics HTTP/1.1\r\n\r\n"));
    CHECK(r.status == 1);
    CHECK(r.out.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
    CHECK(r.err.find("cannot connect to trueno-zramd") != std::string::npos);
}

TEST_CASE("the request head is read up to its blank line, within a size and a time limit", "[http]") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::write(p[1], request.data(), request.size()) == static_cast<ssize_t>(request.size()));
    auto head = read_http_request_head(p[0], std::chrono::seconds(5));
    REQUIRE(head.ok());
    CHECK(*head == request);

    auto timeout = read_http_request_head(p[0], std::chrono::milliseconds(50)); // nothing more comes
    REQUIRE_FALSE(timeout.ok());
    CHECK(timeout.error().code == ETIMEDOUT);

    const std::string endless(20 * 1024, 'x');
    REQUIRE(::write(p[1], endless.data(), endless.size()) == static_cast<ssize_t>(endless.size()));
    auto big = read_http_request_head(p[0], std::chrono::seconds(5));
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().code == E2BIG);
    ::close(p[1]);
    ::close(p[0]);
}
