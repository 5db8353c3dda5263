// varlink-call SOCKET METHOD [JSON-PARAMS]: one call to a varlink service, the reply on stdout.
// Exit 0 for a reply, 1 for a varlink error (printed as JSON too) or any failure, 2 for usage.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <vector>
#include <string>

#include "trueno/varlink/client.hpp"

namespace {

void usage() {
    std::cerr << "usage: varlink-call [--timeout SECONDS] SOCKET METHOD [JSON-PARAMS]\n"
                 "  e.g. varlink-call /run/trueno-zram/io.trueno.zram io.trueno.zram.ListDevices\n"
                 "       varlink-call /run/trueno-zram/io.trueno.zram io.trueno.zram.CreateDevice '{\"size\": 1073741824}'\n";
}

} // namespace

int main(int argc, char** argv) {
    using namespace trueno::varlink;
    std::vector<std::string> args(argv + 1, argv + argc);
    double timeout_s = 30;
    if (args.size() >= 2 && args[0] == "--timeout") {
        char* end = nullptr;
        timeout_s = std::strtod(args[1].c_str(), &end);
        if (end == args[1].c_str() || *end != '\0' || !(timeout_s > 0) || timeout_s > 86400) {
            std::cerr << "varlink-call: --timeout wants seconds between 0 and 86400, got \"" << args[1] << "\"\n";
            return 2;
        }
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.size() < 2 || args.size() > 3) {
        usage();
        return 2;
    }
    Json params = Json::object();
    if (args.size() == 3) {
        params = Json::parse(args[2], nullptr, /*allow_exceptions=*/false);
        if (params.is_discarded() || !params.is_object()) {
            std::cerr << "varlink-call: parameters must be a JSON object, got: " << args[2] << "\n";
            return 2;
        }
    }
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
    auto client = Client::connect(args[0], timeout);
    if (!client) {
        std::cerr << "varlink-call: " << client.error().message << "\n";
        return 1;
    }
    auto reply = client->call(args[1], params, timeout);
    if (!reply) {
        std::cerr << "varlink-call: " << args[1] << ": " << reply.error().message << "\n";
        return 1;
    }
    std::cout << to_json(*reply).dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    if (reply->is_error()) {
        std::cerr << "varlink-call: " << args[1] << " failed: " << *reply->error << "\n";
        return 1;
    }
    return 0;
}
