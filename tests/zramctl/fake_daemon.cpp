#include "fake_daemon.hpp"

#include <sstream>

namespace trueno::zramctl::testing {

std::map<int, Device> sample_devices()
{
    std::map<int, Device> d;
    d[0] = Device{
        0,
        "/dev/ublkb0",
        {{"disksize", "4294967296"},
         {"initstate", "1"},
         {"comp_algorithm", "lzo-rle lzo lz4 lz4hc [zstd] deflate"},
         {"max_comp_streams", "2"},
         {"mem_limit", "0"},
         {"mm_stat",
          "12058624  2674688  2859008        0  3145728      371        5       12       12"},
         {"io_stat", "       0        0        0       42"},
         {"object_stat", "     640       20       12        5      300"},
         {"backing_dev", "/dev/vdb1"},
         {"bd_stat", "    2048      117      903"}}};
    d[1] = Device{1, "/dev/ublkb1",
                       {{"disksize", "1073741824"},
                        {"initstate", "1"},
                        {"comp_algorithm", "[lzo-rle] lzo lz4 zstd"},
                        {"mm_stat", "      74       48    12288  1048576    12288        0        0        0        0"}}};
    d[12] = Device{
        12,
        "/dev/ublkb12",
        {{"disksize", "536870912"},
         {"initstate", "1"},
         {"comp_algorithm", "lz4"},
         {"max_comp_streams", "16"},
         {"mm_stat",
          "       0        0        0        0        0        0        0        0        0"},
         // As a daemon from before RECOMPRESSED wrote it: four fields.
         {"object_stat", "       0        0        0        0"},
         {"backing_dev", "none"},
         {"bd_stat", "       0        0        0"}}};
    return d;
}

Environment fake_environment(std::shared_ptr<FakeState> state)
{
    Environment env;
    env.connect = [state](const std::string& path) {
        state->socket_used = path;
        return std::make_unique<FakeDaemon>(state);
    };
    env.mounts = [] {
        return MountTable("Filename\tType\tSize\tUsed\tPriority\n"
                          "/dev/ublkb0                             partition\t4194300\t0\t100\n",
                          "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
                          "97 22 259:7 / /mnt/scratch\\040dir rw,relatime shared:50 - ext4 /dev/ublkb1 rw\n");
    };
    env.ublk_id_taken = [](int id) { return id == 2; };
    return env;
}

RunResult run_cli(std::vector<std::string> args, const Environment& env)
{
    args.insert(args.begin(), "trueno-zramctl");
    std::ostringstream out, err;
    const int status = run(args, out, err, env);
    return RunResult{status, out.str(), err.str()};
}

} // namespace trueno::zramctl::testing
