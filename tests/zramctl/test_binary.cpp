// The installed program itself: exit codes and streams of the real trueno-zramctl binary.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() { REQUIRE(::pipe2(fd, O_CLOEXEC) == 0); }
    ~Pipe()
    {
        for (int f : fd)
            if (f >= 0)
                ::close(f);
    }
    void close_write()
    {
        ::close(fd[1]);
        fd[1] = -1;
    }
    std::string drain() const
    {
        std::string s;
        char buf[4096];
        for (ssize_t n; (n = ::read(fd[0], buf, sizeof buf)) > 0;)
            s.append(buf, static_cast<std::size_t>(n));
        return s;
    }
};

struct Outcome {
    int status = -1;
    std::string out, err;
};

// Runs the binary with extra environment entries; outputs are small (under a pipe's buffer).
Outcome run_binary(const std::string& bin, std::vector<std::string> args, std::vector<std::string> extra_env = {})
{
    Pipe out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);

    args.insert(args.begin(), bin);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e)
        if (std::string(*e).rfind("TRUENO_ZRAM_SOCKET=", 0) != 0)
            env_storage.emplace_back(*e);
    for (auto& e : extra_env)
        env_storage.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_storage)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = -1;
    const int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    out.close_write();
    err.close_write();
    Outcome o;
    o.out = out.drain();
    o.err = err.drain();
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    o.status = WEXITSTATUS(status);
    return o;
}

const char* binary()
{
    const char* bin = std::getenv("TRUENO_ZRAMCTL_BIN");
    if (!bin)
        WARN("SKIPPED: TRUENO_ZRAMCTL_BIN is not set (run through 'meson test')");
    return bin;
}

} // namespace

TEST_CASE("binary: --version and --help", "[binary]")
{
    const char* bin = binary();
    if (!bin)
        return;
    auto v = run_binary(bin, {"--version"});
    CHECK(v.status == 0);
    CHECK(v.out == "trueno-zramctl from trueno-zram " TRUENO_VERSION "\n");
    CHECK(v.err.empty());
    auto h = run_binary(bin, {"-h"});
    CHECK(h.status == 0);
    CHECK(h.out.find("Usage:\n trueno-zramctl [options] <device>") != std::string::npos);
    CHECK(h.out.find("For more details see trueno-zramctl(8).") != std::string::npos);
}

TEST_CASE("binary: usage errors exit 1 with the help hint on stderr", "[binary]")
{
    const char* bin = binary();
    if (!bin)
        return;
    auto r = run_binary(bin, {"-o", "NOPE"});
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "trueno-zramctl: unknown column: NOPE\nTry 'trueno-zramctl --help' for more information.\n");
}

TEST_CASE("binary: no daemon at the socket from the environment", "[binary]")
{
    const char* bin = binary();
    if (!bin)
        return;
    const std::string sock = "/nonexistent-trueno-test/io.trueno.zram";
    auto r = run_binary(bin, {}, {"TRUENO_ZRAM_SOCKET=" + sock});
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "trueno-zramctl: cannot connect to trueno-zramd at " + sock +
                       ": No such file or directory; start it with 'systemctl start trueno-zramd.socket' or run "
                       "trueno-zramd\n");
    auto opt = run_binary(bin, {"--socket", "/nonexistent-trueno-test/other", "--reset", "/dev/ublkb0"},
                          {"TRUENO_ZRAM_SOCKET=" + sock});
    CHECK(opt.status == 1);
    CHECK(opt.err.find("at /nonexistent-trueno-test/other:") != std::string::npos);
}
