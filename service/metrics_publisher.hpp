// trueno-zramd --metrics-file: every device's metrics written to a file for node_exporter's
// textfile collector, replaced atomically every interval, on a thread of its own. It only
// reads attributes, as a GetAttributes call does, and holds no lock while it writes the file,
// so a slow disk delays the file and nothing else. A failed write is logged, never fatal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "device_manager.hpp"
#include "trueno/metrics/exposition.hpp"
#include "trueno/result.hpp"

namespace trueno::service {

// Every listed device's name and attributes, sorted by id (a device removed meanwhile is left
// out).
std::vector<metrics::DeviceAttributes> collect_device_attributes(const DeviceManager& devices);

class MetricsPublisher {
public:
    // Starts the thread; the first write is at once.
    MetricsPublisher(const DeviceManager& devices, std::filesystem::path file, std::chrono::seconds interval);
    ~MetricsPublisher(); // stop()
    MetricsPublisher(const MetricsPublisher&) = delete;
    MetricsPublisher& operator=(const MetricsPublisher&) = delete;

    // Ends the thread after the write under way, if any.
    void stop();

    // One write, as the thread does it: the error is returned (the thread logs it).
    Status publish_once();

    // Writes done and failed so far, for tests.
    unsigned long writes() const;
    unsigned long failures() const;

private:
    void run();
    // In a catch block of run(): counts the failure and logs what was thrown, once until it
    // changes; never throws.
    void note_thrown(std::string& last_error) noexcept;

    const DeviceManager& devices_;
    const std::filesystem::path file_;
    const std::chrono::seconds interval_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    unsigned long writes_ = 0;
    unsigned long failures_ = 0;
    std::thread thread_; // last: started once the rest is ready
};

} // namespace trueno::service
