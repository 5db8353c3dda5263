#include "metrics_publisher.hpp"
#include "trueno/thread_name.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "trueno/metrics/textfile_writer.hpp"

namespace trueno::service {

std::vector<metrics::DeviceAttributes> collect_device_attributes(const DeviceManager& devices) {
    auto listed = devices.list();
    std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    std::vector<metrics::DeviceAttributes> out;
    for (const auto& d : listed) {
        auto attributes = devices.read_attributes(d.id);
        if (!attributes)
            continue; // removed since list()
        out.push_back({d.name.empty() ? "/dev/ublkb" + std::to_string(d.id) : d.name, std::move(*attributes)});
    }
    return out;
}

MetricsPublisher::MetricsPublisher(const DeviceManager& devices, std::filesystem::path file,
                                   std::chrono::seconds interval)
    : devices_(devices), file_(std::move(file)), interval_(interval), thread_([this] {
          name_this_thread("tz-metrics");
          run();
      }) {}

MetricsPublisher::~MetricsPublisher() { stop(); }

void MetricsPublisher::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

Status MetricsPublisher::publish_once() {
    // node_exporter's textfile collector parses the Prometheus text format, not OpenMetrics.
    const auto text = metrics::render(collect_device_attributes(devices_), metrics::Exposition::PrometheusText);
    auto written = metrics::write_textfile(file_, text);
    std::lock_guard lock(mutex_);
    ++(written ? writes_ : failures_);
    return written;
}

unsigned long MetricsPublisher::writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
}

unsigned long MetricsPublisher::failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
}

void MetricsPublisher::note_thrown(std::string& last_error) noexcept {
    {
        std::lock_guard lock(mutex_);
        ++failures_;
    }
    try {
        std::string what = "an unknown exception";
        try {
            throw;
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        if (what != last_error) {
            spdlog::error("metrics file: {} (tried again every {} s)", what, interval_.count());
            last_error = std::move(what);
        }
    } catch (...) {
        // Not even the log line could be made: the count above is all that is left.
    }
}

void MetricsPublisher::run() {
    // At the ordinary priority of the control thread, not SCHED_IDLE: reading the statistics
    // takes the locks a GetAttributes call takes, and a starved holder would make others wait.
    std::string last_error; // logged once, until the error changes or writes work again
    for (;;) {
        // Nothing thrown may leave the thread (std::terminate would take the daemon, and the
        // machine's swap, with it): a pass that throws (memory exhausted, most likely) counts
        // as a failed write and is tried again next interval.
        try {
            auto written = publish_once();
            if (!written && written.error().message != last_error) {
                last_error = written.error().message;
                spdlog::error("metrics file: {} (tried again every {} s)", last_error, interval_.count());
            } else if (written && !last_error.empty()) {
                spdlog::info("metrics file: {} written again", file_.string());
                last_error.clear();
            }
        } catch (...) {
            note_thrown(last_error);
        }
        std::unique_lock lock(mutex_);
        if (wake_.wait_for(lock, interval_, [this] { return stopping_; }))
            return;
    }
}

} // namespace trueno::service
