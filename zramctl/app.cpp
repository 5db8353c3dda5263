#include "app.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "device_path.hpp"
#include "http_exchange.hpp"
#include "options.hpp"
#include "table.hpp"
#include "trueno/metrics/exposition.hpp"
#include "trueno/zswap.hpp"

namespace trueno::zramctl {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;

class Session {
public:
    Session(const Options& o, std::ostream& out, std::ostream& err, const Environment& env)
        : opt_(o), out_(out), err_(err), env_(env)
    {
    }

    int run()
    {
        switch (opt_.action) {
        case Action::Status:
            return status();
        case Action::FindOnly:
            return find_only();
        case Action::Create:
            return create();
        case Action::Reset:
            return reset();
        case Action::Stat:
            return stat();
        case Action::Set:
            return set();
        case Action::Metrics:
            return opt_.http ? metrics_over_http() : metrics();
        case Action::Help:
        case Action::Version:
            break;
        }
        return kFailure;
    }

private:
    DaemonClient& daemon()
    {
        if (!client_)
            client_ = env_.connect(opt_.socket_path);
        return *client_;
    }

    void fail(const std::string& message) { err_ << kProgramName << ": " << message << '\n'; }

    // "DEV: failed to WHAT: reason", or the daemon-level message when it cannot be reached.
    void fail_on(const std::string& device, const std::string& what, const Error& e)
    {
        if (e.code == kDaemonUnreachable)
            fail(e.message);
        else
            fail(device + ": " + (what.empty() ? "" : what + ": ") + e.message);
    }

    std::optional<int> device_id(const std::string& path)
    {
        auto id = ublk_id_from_path(path);
        if (!id)
            fail(path + ": not a trueno-zram device (expected /dev/ublkbN)");
        return id;
    }

    // The devices the daemon runs; on failure nothing, with the failure said on behalf of device.
    std::optional<std::vector<Device>> listed_devices(const std::string& device)
    {
        auto devices = daemon().list_devices();
        if (!devices) {
            fail_on(device, "", devices.error());
            return std::nullopt;
        }
        return std::move(*devices);
    }

    // The first device named on the command line with its attributes; on failure nothing, with
    // the failure said.
    std::optional<Device> named_device()
    {
        const auto& path = opt_.devices.front();
        auto id = device_id(path);
        if (!id)
            return std::nullopt;
        auto attrs = daemon().attributes(*id);
        if (!attrs) {
            fail_on(path, "", attrs.error());
            return std::nullopt;
        }
        return Device{*id, ublk_path(*id), std::move(*attrs)};
    }

    static bool initialised(const AttributeMap& a)
    {
        auto it = a.find("disksize");
        if (it == a.end())
            return true; // the daemon lists only running devices; trust it without the attribute
        const auto& v = it->second;
        return v.find_first_not_of("0 \n") != std::string::npos;
    }

    // A listing shows initialised devices only; a device named on the command line always shows.
    int print_rows(std::vector<Device> devices, bool only_initialised)
    {
        std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        const MountTable mounts = env_.mounts();
        std::vector<DeviceRecord> rows;
        for (auto& d : devices) {
            if (only_initialised && !initialised(d.attributes))
                continue;
            DeviceRecord r;
            r.name = d.name.empty() ? ublk_path(d.id) : d.name;
            r.mountpoint = mounts.usage_of(r.name);
            r.attributes = std::move(d.attributes);
            rows.push_back(std::move(r));
        }
        RenderOptions ro{opt_.columns, opt_.format, opt_.headings, opt_.in_bytes};
        out_ << render(rows, ro);
        return kOk;
    }

    int status()
    {
        if (!opt_.devices.empty()) {
            auto device = named_device();
            if (!device)
                return kFailure;
            return print_rows({std::move(*device)}, false);
        }
        auto devices = listed_devices("");
        if (!devices)
            return kFailure;
        return print_rows(std::move(*devices), true);
    }

    // The lowest id neither the daemon nor another ublk server uses: where set-up would land.
    int find_only()
    {
        auto devices = listed_devices("");
        if (!devices)
            return kFailure;
        for (int id = 0; id < 1 << 20; ++id) {
            const bool listed = std::any_of(devices->begin(), devices->end(), [&](const auto& d) { return d.id == id; });
            if (!listed && !env_.ublk_id_taken(id)) {
                out_ << ublk_path(id) << '\n';
                return kOk;
            }
        }
        fail("no free zram device found");
        return kFailure;
    }

    int create()
    {
        CreateDeviceRequest req;
        req.size = opt_.size;
        req.algorithm = opt_.algorithm;
        req.params = opt_.algorithm_params;
        if (opt_.streams)
            req.streams = static_cast<unsigned>(opt_.streams);
        std::string label = "new device";
        if (!opt_.find) {
            const auto& path = opt_.devices.front();
            auto id = device_id(path);
            if (!id)
                return kFailure;
            req.id = *id;
            label = path;
            // zramctl resets a device before setting it up again: remove it if it exists.
            auto devices = listed_devices(path);
            if (!devices)
                return kFailure;
            const bool exists =
                std::any_of(devices->begin(), devices->end(), [&](const auto& d) { return d.id == *id; });
            if (exists) {
                if (auto removed = daemon().remove_device(*id); !removed) {
                    fail_on(path, "failed to reset", removed.error());
                    return kFailure;
                }
            }
        }
        auto created = daemon().create_device(req);
        if (!created) {
            fail_on(label, "failed to set up (" + std::to_string(opt_.size) + " bytes)", created.error());
            return kFailure;
        }
        if (opt_.find)
            out_ << (created->name.empty() ? ublk_path(created->id) : created->name) << '\n';
        return kOk;
    }

    // Every device is tried; any failure makes the exit status 1, as zramctl does.
    int reset()
    {
        int rc = kOk;
        for (const auto& path : opt_.devices) {
            auto id = device_id(path);
            if (!id) {
                rc = kFailure;
                continue;
            }
            if (auto removed = daemon().remove_device(*id); !removed) {
                fail_on(path, "failed to reset", removed.error());
                if (removed.error().code == kDaemonUnreachable)
                    return kFailure; // every other device would fail the same way
                rc = kFailure;
            }
        }
        return rc;
    }

    int stat()
    {
        auto device = named_device();
        if (!device)
            return kFailure;
        for (const auto& [name, value] : device->attributes) { // std::map: sorted by name
            std::string v = value;
            while (!v.empty() && v.back() == '\n')
                v.pop_back();
            out_ << name << ": " << v << '\n';
        }
        if (env_.zswap_enabled && env_.zswap_enabled().value_or(false))
            err_ << "trueno-zramctl: warning: " << kZswapWarning << '\n';
        return kOk;
    }

    int set()
    {
        const auto& path = opt_.devices.front();
        auto id = device_id(path);
        if (!id)
            return kFailure;
        if (auto written = daemon().set_attribute(*id, opt_.set_attribute, opt_.set_value); !written) {
            fail_on(path, "failed to set " + opt_.set_attribute, written.error());
            return kFailure;
        }
        return kOk;
    }

    // The named device, or every device the daemon runs, sorted by id; nothing on failure (said).
    std::optional<std::vector<metrics::DeviceAttributes>> metrics_devices()
    {
        std::vector<Device> devices;
        if (!opt_.devices.empty()) {
            auto device = named_device();
            if (!device)
                return std::nullopt;
            devices.push_back(std::move(*device));
        } else {
            auto listed = listed_devices("");
            if (!listed)
                return std::nullopt;
            devices = std::move(*listed);
        }
        std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        std::vector<metrics::DeviceAttributes> out;
        for (auto& d : devices)
            out.push_back({d.name.empty() ? ublk_path(d.id) : d.name, std::move(d.attributes)});
        return out;
    }

    int metrics()
    {
        auto devices = metrics_devices();
        if (!devices)
            return kFailure;
        out_ << metrics::render(*devices, metrics::Exposition::OpenMetrics);
        return kOk;
    }

    // One request, one response, on a socket-activated connection. Errors go to stderr (the
    // journal) as well as into the response; a response sent is success.
    int metrics_over_http()
    {
        constexpr std::string_view kText = "text/plain; charset=utf-8";
        auto head = env_.http_request_head();
        if (!head) {
            fail("http: " + head.error().message);
            return kFailure; // nothing useful to say to a client that sent no request
        }
        const auto request = parse_http_request(*head);
        switch (route_http_request(request)) {
        case HttpRoute::BadRequest:
            out_ << http_response(400, kText, "bad request: " + request.error().message + "\n");
            return kOk;
        case HttpRoute::NotFound:
            out_ << http_response(404, kText, "not found: metrics are at /metrics\n");
            return kOk;
        case HttpRoute::MethodNotAllowed:
            out_ << http_response(405, kText, "method not allowed: GET or HEAD\n");
            return kOk;
        case HttpRoute::Metrics:
            break;
        }
        auto devices = metrics_devices();
        if (!devices) {
            out_ << http_response(503, kText, "trueno-zramd cannot be reached or refused: see the journal\n",
                                  request->method == "HEAD");
            return kFailure;
        }
        out_ << http_response(200, metrics::kOpenMetricsContentType,
                              metrics::render(*devices, metrics::Exposition::OpenMetrics), request->method == "HEAD");
        return kOk;
    }

    const Options& opt_;
    std::ostream& out_;
    std::ostream& err_;
    const Environment& env_;
    std::unique_ptr<DaemonClient> client_;
};

} // namespace

Environment system_environment()
{
    Environment env;
    if (const char* s = std::getenv(kSocketEnvironment))
        env.socket_env = std::string(s);
    env.connect = [](const std::string& path) { return make_varlink_client(path); };
    env.mounts = [] { return MountTable::from_proc(); };
    env.zswap_enabled = [] { return zswap_enabled(); };
    env.http_request_head = [] { return read_http_request_head(STDIN_FILENO, std::chrono::seconds(10)); };
    env.ublk_id_taken = [](int id) {
        struct stat st {};
        const std::string control = "/dev/ublkc" + std::to_string(id);
        const std::string block = ublk_path(id);
        return ::stat(control.c_str(), &st) == 0 || ::stat(block.c_str(), &st) == 0;
    };
    return env;
}

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, const Environment& env)
{
    const auto parsed = parse_options(argv, env.socket_env);
    if (!parsed.options) {
        err << kProgramName << ": " << parsed.error.message << '\n';
        if (parsed.error.try_help)
            err << "Try '" << kProgramName << " --help' for more information.\n";
        return kFailure;
    }
    const Options& opt = *parsed.options;
    if (opt.action == Action::Help) {
        out << usage_text();
        return kOk;
    }
    if (opt.action == Action::Version) {
        out << version_text();
        return kOk;
    }
    Session session(opt, out, err, env);
    const int rc = session.run();
    out.flush();
    if (!out) {
        err << kProgramName << ": write error\n";
        return kFailure;
    }
    return rc;
}

} // namespace trueno::zramctl
