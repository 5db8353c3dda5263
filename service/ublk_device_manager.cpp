#include "ublk_device_manager.hpp"

#include "device_usage.hpp"
#include "io_flusher.hpp"
#include "process_memory.hpp"
#include "realtime.hpp"
#include "trueno/zswap.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <optional>
#include <set>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>
#include <utility>

namespace trueno::service {

namespace {

using namespace std::chrono_literals;

// How long the kernel may take to let a dead server's device be recovered (its ring and char
// device must be gone first; measured well under a second on 6.12).
constexpr auto kRecoveryWait = 30s;

const char* state_name(unsigned state)
{
    switch (state) {
    case UBLK_S_DEV_DEAD: return "dead";
    case UBLK_S_DEV_LIVE: return "live";
    case UBLK_S_DEV_QUIESCED: return "quiesced";
    default: return "failing I/O";
    }
}

// Another trueno-zramd serving the device right now (not a zombie, not a reused pid).
bool served_by_live_daemon(pid_t pid)
{
    if (pid <= 0 || pid == getpid())
        return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return false;
    const auto close = line.rfind(')');
    const auto open = line.find('(');
    if (close == std::string::npos || open == std::string::npos || close + 2 >= line.size())
        return false;
    const std::string comm = line.substr(open + 1, close - open - 1);
    const char state = line[close + 2];
    return comm == "trueno-zramd" && state != 'Z' && state != 'X';
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

// An id in creating_ or removing_ for a scope: taken out again (and the waiters told) when it
// ends. The sets are multisets: a requested id is reserved before ADD_DEV, and the kernel may
// give that same id to a concurrent create that asked for any, whose ADD_DEV came first.
class UblkDeviceManager::Reservation {
public:
    Reservation(UblkDeviceManager& manager, std::multiset<int>& ids) : manager_(manager), ids_(ids) {}
    ~Reservation()
    {
        if (id_ < 0)
            return;
        {
            std::lock_guard lock(manager_.mutex_);
            release_locked();
        }
        manager_.removed_.notify_all();
    }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

    // Both with the manager's mutex held.
    void hold(int id)
    {
        ids_.insert(id);
        id_ = id;
    }
    void release_locked()
    {
        if (id_ < 0)
            return;
        ids_.erase(ids_.find(id_));
        id_ = -1;
    }

private:
    UblkDeviceManager& manager_;
    std::multiset<int>& ids_;
    int id_ = -1;
};

UblkDeviceManager::UblkDeviceManager(ublk::ControlDevice& control, ublk::DeviceOptions options)
    : control_(control), options_(options)
{
}

UblkDeviceManager::~UblkDeviceManager() { release_all(); }

StoreConfig UblkDeviceManager::runtime_config() const
{
    StoreConfig config;
    // The device may be swap: its queue threads (PR_SET_IO_FLUSHER) must never fault for
    // store memory, which under pressure they could not reclaim (see StoreConfig).
    config.never_fault_on_io = true;
    config.reserve_limit_bytes = options_.reserve_budget_bytes;
    config.refill_thread_setup = [realtime = options_.realtime] {
        become_io_flusher("store refill thread");
        if (realtime)
            become_realtime("store refill thread");
    };
    return config;
}

Result<DeviceSummary> UblkDeviceManager::create(const DeviceSpec& spec)
{
    if (spec.size == 0)
        return make_error(EINVAL, "size must be greater than 0");
    if (spec.id < -1 || spec.id > kMaxDeviceId)
        return make_error(EINVAL, "id must be -1 (any) or a ublk device number up to " + std::to_string(kMaxDeviceId));
    StoreConfig config = runtime_config();
    config.disksize = (spec.size + kPageSize - 1) / kPageSize * kPageSize;
    if (!spec.algorithm.empty())
        config.algorithm = spec.algorithm;
    if (!spec.params.empty()) {
        auto params = parse_codec_params(spec.params);
        if (!params)
            return params.error();
        config.params = std::move(params.value());
    }
    config.mem_limit = spec.mem_limit;
    config.streams = spec.streams;
    // Checked before a device exists: a bad algorithm or size is the caller's error, not a
    // half-made device.
    if (!find_codec(config.algorithm))
        return make_error(EINVAL, "unknown compression algorithm '" + config.algorithm +
                                      "'; available: " + available_codec_names());

    // The lock only around the bookkeeping: ADD_DEV, making the store and waiting for the
    // device's node (up to 2 s) happen outside it, with the id in creating_.
    Reservation creating(*this, creating_);
    {
        std::lock_guard lock(mutex_);
        if (spec.id >= 0 && devices_.count(spec.id))
            return make_error(EEXIST, "device " + std::to_string(spec.id) + " exists");
        if (spec.id >= 0 && creating_.count(spec.id))
            return make_error(EEXIST, "device " + std::to_string(spec.id) + " is being created");
        if (spec.id >= 0 && removing_.count(spec.id))
            return make_error(EBUSY, "device " + std::to_string(spec.id) + " is being removed");
        if (spec.id >= 0)
            creating.hold(spec.id);
    }
    // The id first: the store's shared memory is keyed by it. Declared after `creating`, so a
    // device that fails below is deleted before its id is free again.
    auto device = ublk::UblkDevice::add(control_, spec.id, config.disksize, options_);
    if (!device)
        return device.error(); // the kernel says EEXIST when a requested id is taken
    const int id = (*device)->id();
    if (id > kMaxDeviceId)
        return make_error(ERANGE, "the kernel gave ublk id " + std::to_string(id) + ", above " +
                                      std::to_string(kMaxDeviceId)); // the device is deleted again
    {
        std::unique_lock lock(mutex_);
        if (spec.id < 0)
            creating.hold(id);
        // A device with this id was just deleted: its segment goes next (see removing_).
        removed_.wait(lock, [&] { return !removing_.count(id); });
    }
    config.shared_memory_key = store_key(id);
    // ADD_DEV just made this id, so no device had it: a segment with its key is a leftover.
    if (PageStore::is_shared_store(config.shared_memory_key)) {
        spdlog::warn("removing the store of an earlier ublk device {} (the device is gone)", id);
        (void)PageStore::remove_shared_memory(config.shared_memory_key);
    }
    auto store = PageStore::create(config);
    if (!store)
        return store.error();
    std::shared_ptr<PageStore> shared = std::move(store.value());
    if (auto st = (*device)->start(shared); !st) {
        (void)PageStore::remove_shared_memory(config.shared_memory_key);
        return st.error();
    }
    Entry entry;
    entry.store = shared;
    entry.attributes = std::make_unique<ZramAttributes>(shared, config);
    entry.device = std::move(device.value());
    DeviceSummary summary{id, entry.device->block_path()};
    {
        std::lock_guard lock(mutex_);
        devices_.emplace(id, std::move(entry));
        creating.release_locked();
    }
    spdlog::info("created {} ({} bytes, {})", summary.name, config.disksize, shared->algorithm());
    if (zswap_enabled().value_or(false))
        spdlog::warn("{}: {}", summary.name, kZswapWarning);
    return summary;
}

Error UblkDeviceManager::missing(int id) const
{
    if (creating_.count(id))
        return make_error(EBUSY, "device " + std::to_string(id) + " is still being created");
    return make_error(ENODEV, "no device " + std::to_string(id));
}

Status UblkDeviceManager::remove(int id)
{
    Entry entry;
    UniqueFd hold;
    Reservation removing(*this, removing_);
    {
        std::lock_guard lock(mutex_);
        auto it = devices_.find(id);
        if (it == devices_.end())
            return missing(id);
        const auto& d = *it->second.device;
        // The kernel says whether it is in use (swap or mounted, in any namespace), and the
        // exclusive open held until the device is stopped keeps a swapon or mount from
        // taking it in between.
        auto claim = claim_for_removal(d.block_path(), d.block_devt());
        if (!claim)
            return claim.error();
        hold = std::move(*claim);
        entry = std::move(it->second);
        devices_.erase(it);
        removing.hold(id);
    }
    // Stopping waits for in-flight I/O: done outside the lock so other devices keep working.
    const std::string path = entry.device->block_path();
    // Its workers stop first: queued compact and idle writes are cancelled (ENODEV), a running
    // one (or recompression batch) finishes; only then does the device go.
    entry.attributes.reset();
    auto st = entry.device->remove(std::move(hold));
    entry.device.reset();
    entry.store.reset();
    // The device is gone for good: so is its memory.
    if (auto removed = PageStore::remove_shared_memory(store_key(id)); !removed && removed.error().code != ENOENT)
        spdlog::warn("{}: {}", path, removed.error().message);
    if (st)
        spdlog::info("removed {}", path);
    return st;
}

std::vector<DeviceSummary> UblkDeviceManager::list() const
{
    std::lock_guard lock(mutex_);
    std::vector<DeviceSummary> out;
    for (const auto& [id, entry] : devices_)
        out.push_back({id, entry.device->block_path()});
    return out;
}

Result<AttributeMap> UblkDeviceManager::read_attributes(int id) const
{
    AttributeMap map;
    {
        std::lock_guard lock(mutex_);
        auto it = devices_.find(id);
        if (it == devices_.end())
            return missing(id);
        map = it->second.attributes->read_all();
    }
    // The block layer's counters, as /sys/block/zramN/stat holds them for kernel zram: reads are
    // swap-ins, which the store does not count. Read without the lock; absent if unreadable.
    std::ifstream stat(ublk::block_sysfs_path(id, "stat"));
    if (std::string line; std::getline(stat, line))
        map.emplace("stat", line);
    return map;
}

Status UblkDeviceManager::write_attribute(int id, const std::string& name, const std::string& value)
{
    std::promise<Status> result;
    auto done = result.get_future();
    write_attribute_async(id, name, value, [&result](Status st) { result.set_value(std::move(st)); });
    return done.get(); // without the lock: write_attribute_async holds it only to queue the work
}

void UblkDeviceManager::write_attribute_async(int id, const std::string& name, const std::string& value,
                                              WriteDone done)
{
    if (name == "reset")
        return done(remove(id));
    std::lock_guard lock(mutex_);
    auto it = devices_.find(id);
    if (it == devices_.end())
        return done(missing(id));
    // Quick writes are done here, under the lock; compact and idle only queued on the device's
    // worker, which calls done without it. remove() takes the attributes out under the lock
    // before it stops that worker, so a write queued here is either run or cancelled.
    it->second.attributes->write_async(name, value, std::move(done));
}

std::size_t UblkDeviceManager::prepare_takeover(pid_t server) {
    std::map<unsigned, unsigned> wanted; // ring entries -> queues
    try {
        for (int id : ublk::existing_device_ids()) {
            auto info = control_.device_info(static_cast<std::uint32_t>(id));
            if (!info || static_cast<pid_t>(info->ublksrv_pid) != server ||
                info->state == UBLK_S_DEV_DEAD || !(info->flags & UBLK_F_USER_RECOVERY))
                continue;
            wanted[ublk::queue_ring_entries(info->queue_depth)] += info->nr_hw_queues;
        }
    } catch (const std::exception& e) {
        spdlog::warn("standby: cannot list the devices to take over: {}", e.what());
        return spares_.size();
    }
    spares_.keep(wanted);
    return spares_.size();
}

RecoveryReport UblkDeviceManager::recover()
{
    const auto start = std::chrono::steady_clock::now();
    RecoveryReport report;
    const std::size_t spares_before = spares_.size();
    for (int id : ublk::existing_device_ids()) {
        auto info = control_.device_info(static_cast<std::uint32_t>(id));
        if (!info)
            continue; // deleted meanwhile
        if (served_by_live_daemon(info->ublksrv_pid))
            continue; // another trueno-zramd serves it
        recover_device(id, *info, report);
    }
    // Stores whose device is gone (removed while no daemon ran, or a daemon killed between
    // removing a device and its memory) hold memory nobody can use.
    std::set<int> ids;
    for (int id : ublk::existing_device_ids())
        ids.insert(id);
    for (std::int32_t key : PageStore::shared_memory_keys(store_key(0), store_key(kMaxDeviceId))) {
        if (ids.count(key - kStoreKeyBase) || !PageStore::is_shared_store(key))
            continue;
        if (PageStore::remove_shared_memory(key)) {
            spdlog::info("removed the store of ublk device {}, which no longer exists", key - kStoreKeyBase);
            ++report.stale_stores;
        }
    }
    report.spares_unused = static_cast<unsigned>(spares_.size());
    report.spare_queues = static_cast<unsigned>(spares_before - spares_.size());
    spares_.keep({}); // what no queue took
    report.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return report;
}

void UblkDeviceManager::recover_device(int id, const ublksrv_ctrl_dev_info& info, RecoveryReport& report)
{
    const std::string path = ublk::block_device_path(id);
    const std::int32_t key = store_key(id);
    const bool ours = id <= kMaxDeviceId && PageStore::is_shared_store(key);
    if (info.state == UBLK_S_DEV_DEAD || !(info.flags & UBLK_F_USER_RECOVERY)) {
        // Never started (its daemon died while making it), stopped, or made without recovery
        // (the kernel stops those when their server dies): nothing can serve it again.
        spdlog::info("deleting ublk device {} left by server pid {} (state {}{})", id, info.ublksrv_pid,
                     state_name(info.state), (info.flags & UBLK_F_USER_RECOVERY) ? "" : ", no recovery");
        (void)control_.stop_device(static_cast<std::uint32_t>(id));
        if (auto st = control_.delete_device(static_cast<std::uint32_t>(id)); st)
            ++report.deleted;
        else
            spdlog::warn("could not delete ublk device {}: {}", id, st.error().message);
        if (ours)
            (void)PageStore::remove_shared_memory(key);
        return;
    }
    if (!ours) {
        spdlog::warn("{} ({}, server pid {} gone) has no trueno-zram store: not ours, left alone", path,
                     state_name(info.state), info.ublksrv_pid);
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    const unsigned long anon_at_start = anonymous_rss_kb(); // what each step allocates, logged
    auto store = PageStore::attach(key, runtime_config());
    if (!store) {
        spdlog::critical("{}: its store cannot be taken over: {}. The device stays as it is, its I/O "
                         "waiting in the kernel, until a trueno-zramd that can serve it starts",
                         path, store.error().message);
        ++report.waiting;
        return;
    }
    std::shared_ptr<PageStore> shared = std::move(store.value());
    const double attached = seconds_since(start);
    const unsigned long attach_kb = anonymous_rss_growth_kb(anon_at_start);
    const unsigned long anon_attached = anonymous_rss_kb();
    auto device =
        ublk::UblkDevice::recover(control_, id, shared, kRecoveryWait, options_, &spares_);
    if (!device) {
        spdlog::critical("{}: recovery failed: {}. The device stays quiesced, its I/O waiting in the "
                         "kernel; restart trueno-zramd to try again",
                         path, device.error().message);
        ++report.waiting;
        return;
    }
    const unsigned long serve_kb = anonymous_rss_growth_kb(anon_attached);
    const MmStat mm = shared->mm_stat();
    const StoreBookkeeping books = shared->bookkeeping();
    spdlog::info("recovered {} from the store of server pid {}: {} MiB in {} MiB, attached in {:.3f} s, "
                 "serving again after {:.3f} s (recovery {}); allocated {} kB attaching, {} kB serving; "
                 "the store's bookkeeping {} kB ({} segments: page maps {} kB, slot owners {} kB, free "
                 "lists {} kB); the reserve {} kB ready, {} kB populated since the take-over began, in {} ms; "
                 "{} resident pages mapped before serving{}",
                 path, info.ublksrv_pid, mm.orig_data_size >> 20, mm.mem_used_total >> 20, attached,
                 seconds_since(start), shared->attaches(), attach_kb, serve_kb, books.total() >> 10,
                 books.segments, books.page_map_bytes >> 10, books.owner_bytes >> 10,
                 books.free_list_bytes >> 10, shared->reserve_bytes() >> 10,
                 shared->reserve_events().refilled_pages * 4, shared->reserve_events().refill_busy_us / 1000,
                 shared->takeover_mapping().mapped_pages,
                 shared->takeover_mapping().unmapped_pages == 0
                     ? std::string()
                     : " (" + std::to_string(shared->takeover_mapping().unmapped_pages) +
                           " could not be: their first access faults)");
    StoreConfig config = runtime_config();
    config.disksize = shared->disksize();
    config.algorithm = shared->algorithm();
    config.params = shared->params();
    config.shared_memory_key = key;
    Entry entry;
    entry.store = shared;
    entry.attributes = std::make_unique<ZramAttributes>(shared, config);
    entry.device = std::move(device.value());
    std::lock_guard lock(mutex_);
    devices_.emplace(id, std::move(entry));
    ++report.recovered;
}

void UblkDeviceManager::release_all()
{
    // The queues first, and only them: the moment the last one lets go, the kernel quiesces the
    // device and the next daemon can take it over. Stores and recompression workers are left
    // as they are (see main.cpp: the process exits next); their state is in the arena already.
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : devices_) {
        if (!entry.device)
            continue;
        entry.device->release();
        spdlog::info("left {} to the next trueno-zramd (its I/O waits in the kernel)", entry.device->block_path());
    }
}

std::size_t UblkDeviceManager::device_count() const
{
    std::lock_guard lock(mutex_);
    return devices_.size();
}

namespace {

std::optional<std::uint64_t> kernel_in_flight(int id)
{
    std::ifstream in(ublk::block_sysfs_path(id, "inflight"));
    std::string text;
    if (!in || !std::getline(in, text))
        return std::nullopt;
    return parse_inflight(text);
}

} // namespace

void UblkDeviceManager::maintain()
{
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, entry] : devices_) {
        const std::string path = ublk::block_device_path(id);
        entry.attributes->maintain(path);
        if (!entry.device)
            continue;
        const auto parked = entry.device->parked_writes();
        const auto parked_before = std::exchange(entry.parked_seen, parked);
        if (parked.parked != parked_before.parked || parked.failed != parked_before.failed)
            spdlog::info("{}: {} write(s) found no memory ready and waited for the refiller while "
                         "the queues "
                         "served on; {} failed after --reserve-wait, {} wait now",
                         path, parked.parked - parked_before.parked,
                         parked.failed - parked_before.failed, parked.waiting);
        const auto in_flight = kernel_in_flight(id);
        if (!in_flight)
            continue;
        const auto report = entry.stall_watch.observe(now, *in_flight, entry.device->requests());
        if (report.verdict == RequestStallWatch::Verdict::Stalled)
            spdlog::error(
                "{}: {} request(s) in flight in the kernel, and its queues completed none for {} "
                "s; {}",
                path, report.in_flight, report.stalled_for.count() / 1000,
                entry.device->serving() || entry.device->parked_writes().waiting > 0
                    ? "a queue thread is inside a request or holds writes waiting for memory "
                      "all that time (ps -L names it)"
                    : "every queue thread waits for the kernel: the requests wait in the kernel "
                      "(/sys/kernel/debug/block/ublkb" +
                          std::to_string(id) + "/ says where)");
        else if (report.verdict == RequestStallWatch::Verdict::FlowingAgain)
            spdlog::warn("{}: requests complete again, after {} s with none", path,
                         report.stalled_for.count() / 1000);
    }
}

bool UblkDeviceManager::make_room() {
    std::lock_guard lock(mutex_);
    bool armed = false;
    for (auto& [id, entry] : devices_)
        armed = entry.attributes->make_room(ublk::block_device_path(id)) || armed;
    return armed;
}

std::pair<std::uint64_t, std::uint64_t> UblkDeviceManager::totals() const
{
    std::lock_guard lock(mutex_);
    std::uint64_t orig = 0;
    std::uint64_t used = 0;
    for (const auto& [id, entry] : devices_) {
        const MmStat s = entry.store->mm_stat();
        orig += s.orig_data_size;
        used += s.mem_used_total;
    }
    return {orig, used};
}

} // namespace trueno::service
