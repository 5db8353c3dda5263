// Kernel zram's sysfs attributes over a page store. Formats and errors follow
// drivers/block/zram/zram_drv.c for a device that is initialised (a ublk device always is:
// its size is fixed when it starts), so everything that needs an uninitialised device is EBUSY.
#include "zram_attributes.hpp"

#include "attribute_parsers.hpp"
#include "trueno/codec.hpp"
#include "trueno/stats.hpp"

#include <algorithm>
#include <cstdio>
#include <future>
#include <limits>
#include <new>
#include <optional>
#include <spdlog/spdlog.h>
#include <string_view>
#include <sys/stat.h>
#include <utility>
#include <vector>

namespace trueno::service {

namespace {

// A job's "queued or running" flag, cleared however the job ends.
struct ClearOnExit {
    std::atomic<bool>& flag;
    ~ClearOnExit() { flag.store(false); }
};

constexpr std::uint64_t page_size = 4096;
constexpr std::size_t max_algorithm_name = 64;  // the kernel's ZRAM_MAX_ALGO_NAME_SZ
constexpr int max_priority = 3;                 // priorities 1..3 are recompression algorithms
constexpr std::uint64_t huge_class_size = 3632; // zsmalloc's huge class with 8-page zspages

Error unknown_key(const std::string& key, const char* attribute, const char* known) {
    return make_error(EINVAL, "unknown " + std::string(attribute) + " parameter '" + key + "' (known: " + known + ")");
}

std::string uint_text(std::uint64_t v) { return std::to_string(v); }

std::string without_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

// comp_algorithm's text: every algorithm followed by a space, the current one in brackets.
std::string algorithm_list(const std::string& current) {
    std::string out;
    bool listed = false;
    for (const auto& info : available_codecs()) {
        if (info.name == current) {
            out += "[" + current + "] ";
            listed = true;
        } else {
            out += std::string(info.name) + " ";
        }
    }
    if (!listed) out += "[" + current + "] ";
    return out;
}

// Checks an algorithm name as __comp_algorithm_store does before it looks at the device.
Status check_algorithm_name(std::string_view name) {
    if (name.size() >= max_algorithm_name)
        return make_error(E2BIG, "algorithm name longer than " + std::to_string(max_algorithm_name - 1) + " bytes");
    if (!find_codec(name))
        return make_error(EINVAL, "unknown compression algorithm '" + std::string(name) +
                                      "'; available: " + available_codec_names());
    return {};
}

Error busy(const std::string& what) {
    return make_error(EBUSY, what + " cannot change once the device is initialised (a ublk device is "
                                    "initialised from its creation: give it to CreateDevice)");
}

enum class Access { read_only, write_only, read_write };

const std::vector<std::pair<std::string, Access>>& attribute_table() {
    static const std::vector<std::pair<std::string, Access>> table = {
        {"disksize", Access::read_write},
        {"initstate", Access::read_only},
        {"comp_algorithm", Access::read_write},
        {"algorithm_params", Access::write_only},
        {"mem_limit", Access::write_only},
        {"mem_used_max", Access::write_only},
        {"compact", Access::write_only},
        {"idle", Access::write_only},
        {"mm_stat", Access::read_only},
        {"io_stat", Access::read_only},
        {"debug_stat", Access::read_only},
        {"bd_stat", Access::read_only},
        {"backing_dev", Access::read_write},
        {"writeback", Access::write_only},
        {"writeback_limit", Access::read_write},
        {"writeback_limit_enable", Access::read_write},
        {"recomp_algorithm", Access::read_write},
        {"recompress", Access::write_only},
        {"max_comp_streams", Access::read_write},
        // Ours, beyond the kernel's.
        {"object_stat", Access::read_only},
        {"recompress_policy", Access::read_write},
        {"recompress_status", Access::read_only},
        {"writeback_policy", Access::read_write},
    };
    return table;
}

std::optional<Access> access_of(const std::string& name) {
    for (const auto& [n, a] : attribute_table())
        if (n == name) return a;
    return std::nullopt;
}

} // namespace

ZramAttributes::ZramAttributes(std::shared_ptr<PageStore> store, StoreConfig config)
    : store_(std::move(store)), config_(std::move(config)), recompressor_(store_) {
    // A device taken over from an earlier daemon goes on with the policy it had.
    if (const std::string saved = store_->saved_policy(); !saved.empty()) {
        auto policy = parse_background_policy(saved);
        if (policy) (void)recompressor_.set_policy(std::move(*policy));
    }
    if (const std::string saved = store_->saved_writeback_policy(); !saved.empty()) {
        auto policy = parse_writeback_policy(saved);
        if (policy)
            writeback_policy_ = *policy;
        else
            spdlog::error(
                "the saved writeback_policy \"{}\" does not parse ({}); writeback policy off",
                saved, policy.error().message);
    }
}

AttributeMap ZramAttributes::read_all() const {
    AttributeMap map;
    for (const auto& [name, access] : attribute_table()) {
        if (access == Access::write_only) continue;
        auto value = read(name);
        if (value) map.emplace(name, std::move(*value));
    }
    return map;
}

Result<std::string> ZramAttributes::read(const std::string& name) const {
    const auto access = access_of(name);
    if (!access) return make_error(ENOENT, "no attribute '" + name + "'");
    if (*access == Access::write_only) return make_error(EACCES, name + " is write-only");
    std::lock_guard lock(mutex_);
    if (name == "disksize") return uint_text(store_->disksize());
    if (name == "initstate") return std::string("1");
    if (name == "comp_algorithm") return algorithm_list(store_->algorithm());
    if (name == "mm_stat") return without_newline(format_mm_stat(store_->mm_stat()));
    if (name == "io_stat") return without_newline(format_io_stat(store_->io_stat()));
    // The kernel's version 1 layout; the second line's last field counts slot frees missed
    // under contention, which this store never has (it waits for the slot).
    if (name == "debug_stat") {
        // The never-fault reserve is populated memory that holds no data, so mem_used_total
        // leaves it out; it is shown here, with the writes refused while it was empty.
        return std::string("version: 1\n0        0\nreserve_bytes ") +
               std::to_string(store_->reserve_bytes()) + "\nreserve_misses " +
               std::to_string(store_->reserve_misses()) + "\nreserve_borrows " +
               std::to_string(store_->reserve_events().borrows) + "\nreserve_waits " +
               std::to_string(store_->reserve_events().waits) + "\nreserve_refusals " +
               std::to_string(store_->reserve_events().refusals) + "\nrecoveries " +
               std::to_string(store_->attaches()) + "\ndamaged_pages " +
               std::to_string(store_->damaged_pages()) + "\nrefill_pages " +
               std::to_string(store_->reserve_events().refilled_pages) + "\nrefill_busy_ms " +
               std::to_string(store_->reserve_events().refill_busy_us / 1000) + "\nrefill_slowest_ms " +
               std::to_string(store_->reserve_events().slowest_refill_us / 1000) + "\nrefill_runs " +
               std::to_string(store_->reserve_events().refill_runs) + "\nrefill_cpu_ms " +
               std::to_string(store_->reserve_events().refill_cpu_us / 1000) + "\nmaintenance_cpu_ms " +
               std::to_string(store_->reserve_events().maintenance_cpu_us / 1000) +
               "\ntakeover_mapped_pages " + std::to_string(store_->takeover_mapping().mapped_pages) +
               "\ntakeover_unmapped_pages " + std::to_string(store_->takeover_mapping().unmapped_pages);
    }
    if (name == "bd_stat")
        return without_newline(format_bd_stat(store_->bd_stat()));
    if (name == "backing_dev") {
        const std::string path = store_->backing_device();
        return path.empty() ? std::string("none") : path;
    }
    if (name == "writeback_limit")
        return uint_text(store_->writeback_limit());
    if (name == "writeback_limit_enable")
        return std::string(store_->writeback_limit_enable() ? "1" : "0");
    if (name == "recomp_algorithm") return recomp_algorithm_text();
    if (name == "max_comp_streams") return uint_text(store_->streams());
    if (name == "object_stat") return without_newline(format_object_stat(store_->object_stat()));
    if (name == "recompress_policy") return recompress_policy_text();
    if (name == "recompress_status") return recompress_status_text();
    if (name == "writeback_policy")
        return writeback_policy_text();
    return make_error(ENOENT, "no attribute '" + name + "'");
}

Status ZramAttributes::write(const std::string& name, const std::string& value) {
    if (name != "compact" && name != "idle" && name != "writeback")
        return write_now(name, value);
    std::promise<Status> result;
    auto done = result.get_future();
    write_async(name, value, [&result](Status st) { result.set_value(std::move(st)); });
    return done.get();
}

void ZramAttributes::maintain(const std::string& device, std::chrono::steady_clock::time_point now) {
    report_refusals(device);
    make_room(device, now);
    maybe_writeback(device, now);
    maybe_compact_backing(device, now);
    const MmStat mm = store_->mm_stat();
    const CompactionSample sample{mm.mem_used_total, mm.compr_data_size, store_->reserve_misses(), now};
    if (!auto_compaction_.due(sample) || auto_compacting_.exchange(true)) return;
    const std::uint64_t slack = mm.mem_used_total - mm.compr_data_size;
    // worker_ is the last member: its jobs finish, or are cancelled, before the rest goes.
    worker_.post([this, device, slack](bool run) {
        const ClearOnExit clear{
            auto_compacting_}; // also when compact() throws (the worker logs it)
        if (!run)
            return;
        const std::uint64_t pages = store_->compact();
        auto_compactions_.fetch_add(1);
        spdlog::info("{}: compacted on its own, {} MiB over its data before: {} page(s) given back", device,
                     slack >> 20, pages);
    });
}

void ZramAttributes::report_refusals(const std::string& device) {
    // Said once per status period at most, with what the refiller did meanwhile: a write the
    // store refused is one the kernel writes again, but the operator sees its error in dmesg.
    const PageStore::ReserveEvents now = store_->reserve_events();
    const PageStore::ReserveEvents then = std::exchange(reserve_seen_, now);
    if (now.refusals == then.refusals) return;
    spdlog::warn(
        "{}: {} allocation(s) found no populated memory after waiting for the refiller (their "
        "writes wait on, up to --reserve-wait); since the last report it populated {} page(s) in "
        "{} "
        "ms (slowest class so far {} ms), reserve now {} kB",
        device, now.refusals - then.refusals, now.refilled_pages - then.refilled_pages,
        (now.refill_busy_us - then.refill_busy_us) / 1000, now.slowest_refill_us / 1000,
        store_->reserve_bytes() >> 10);
}

void ZramAttributes::write_async(const std::string& name, const std::string& value, WriteDone done) {
    std::function<void()> work;
    if (name == "compact") {
        // The kernel ignores the value too. Ours: the backing device's sparse blocks are
        // repacked as well.
        work = [store = store_] {
            store->compact();
            if (auto report = store->compact_backing(); !report)
                spdlog::error("compact: repacking the backing device: {}", report.error().message);
            else if (report->objects != 0)
                spdlog::info("compact: {} object(s) on the backing device repacked, {} block(s) "
                             "written, {} freed",
                             report->objects, report->blocks_written, report->blocks_freed);
        };
    } else if (name == "idle") {
        std::uint64_t age = 0; // "all": every page
        if (trim(value) != "all") {
            auto seconds = kstrto<std::uint64_t>(value, 0);
            if (!seconds) return done(make_error(EINVAL, "idle takes \"all\" or an age in seconds"));
            age = *seconds;
        }
        work = [store = store_, age] { store->mark_idle(age); };
    } else if (name == "writeback") {
        // Parsed here, so a malformed request is refused at once; the passes (disk writes) run
        // on the device's worker, as compact and idle do.
        auto passes = parse_writeback(strip_newline(value), store_->page_count());
        if (!passes)
            return done(passes.error());
        if (store_->backing_device().empty())
            return done(make_error(
                ENODEV, "writeback: no backing device is set (write backing_dev first)"));
        return post_writeback(std::move(*passes), std::move(done));
    } else {
        return done(write_now(name, value));
    }
    // Without mutex_: the store takes care of its own consistency (the recompression worker
    // compacts and marks pages idle beside it too), and the other writes need not wait.
    worker_.post([name, work = std::move(work), done = std::move(done)](bool run) {
        if (!run) return done(make_error(ENODEV, name + " was not done: the device was removed"));
        Status result;
        try {
            work();
        } catch (const std::bad_alloc&) {
            result = make_error(ENOMEM, name + ": out of memory");
        } catch (const std::exception& e) {
            result = make_error(EIO, name + ": " + e.what());
        }
        done(std::move(result));
    });
}

Status ZramAttributes::write_now(const std::string& name, const std::string& value) {
    if (name == "reset") return make_error(ENOENT, "reset is done by removing the device (RemoveDevice)");
    const auto access = access_of(name);
    if (!access) return make_error(ENOENT, "no attribute '" + name + "'");
    if (*access == Access::read_only) return make_error(EACCES, name + " is read-only");
    std::lock_guard lock(mutex_);

    if (name == "disksize") {
        auto size = memparse(value);
        if (!size) return size.error();
        if (*size == 0) return make_error(EINVAL, "disksize 0 is not a size");
        return busy("disksize");
    }
    if (name == "comp_algorithm") {
        if (auto ok = check_algorithm_name(strip_newline(value)); !ok) return ok;
        return busy("comp_algorithm");
    }
    if (name == "algorithm_params") return write_algorithm_params(value);
    if (name == "mem_limit") {
        auto limit = memparse(value);
        if (!limit) return limit.error();
        if (*limit > std::numeric_limits<std::uint64_t>::max() - (page_size - 1))
            return make_error(ERANGE, "mem_limit is too large");
        store_->set_mem_limit((*limit + page_size - 1) / page_size * page_size);
        return {};
    }
    if (name == "mem_used_max") {
        auto v = kstrto<std::uint64_t>(value, 10);
        if (!v || *v != 0) return make_error(EINVAL, "mem_used_max accepts only 0 (reset the peak)");
        store_->reset_mem_used_max();
        return {};
    }
    if (name == "recomp_algorithm") return write_recomp_algorithm(value);
    if (name == "recompress") return write_recompress(value);
    if (name == "recompress_policy") {
        auto policy = parse_background_policy(strip_newline(value));
        if (!policy) return policy.error();
        const std::string text = format_background_policy(*policy);
        if (auto st = recompressor_.set_policy(std::move(*policy)); !st) return st;
        return store_->save_policy(text == "off" ? "" : text); // it comes back with the store
    }
    if (name == "backing_dev")
        return write_backing_dev(value);
    if (name == "writeback_policy") {
        auto policy = parse_writeback_policy(strip_newline(value));
        if (!policy)
            return policy.error();
        const std::string text = format_writeback_policy(*policy);
        if (auto saved = store_->save_writeback_policy(text == "off" ? "" : text); !saved)
            return saved;
        writeback_policy_ = *policy;
        room_pause_until_ = {}; // a new policy gets room on demand again at once
        writeback_next_ = {}; // the first pass is due at once
        writeback_last_.clear();
        return {};
    }
    if (name == "writeback_limit") {
        auto blocks = kstrto<std::uint64_t>(value, 10);
        if (!blocks)
            return blocks.error();
        store_->set_writeback_limit(*blocks);
        return {};
    }
    if (name == "writeback_limit_enable") {
        auto on = kstrto<std::uint64_t>(value, 10);
        if (!on)
            return on.error();
        store_->set_writeback_limit_enable(*on != 0);
        return {};
    }
    if (name == "max_comp_streams")
        return make_error(EBUSY, "max_comp_streams is fixed when the device is created (CreateDevice streams)");
    return make_error(ENOENT, "no attribute '" + name + "'");
}

// --- writeback ---------------------------------------------------------------------------------

Status ZramAttributes::write_backing_dev(const std::string& value) {
    const std::string path(strip_newline(value));
    // Ours, beyond the kernel (which takes a backing device only before disksize is set, and a
    // ublk device has its size from the start): set, changed or dropped ("none") whenever no
    // page is written back.
    if (path.empty() || path == "none")
        return store_->set_backing_device("");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return errno_error(errno, "backing_dev " + path);
    if (!S_ISBLK(st.st_mode))
        return make_error(ENOTBLK, "backing_dev " + path +
                                       " is not a block device (a partition, a loop device "
                                       "over a file, NBD ...)");
    return store_->set_backing_device(path); // which logs the device's size
}

void ZramAttributes::post_writeback(std::vector<WritebackOptions> passes, WriteDone done) {
    worker_.post([store = store_, passes = std::move(passes), done = std::move(done)](bool run) {
        if (!run)
            return done(make_error(ENODEV, "writeback was not done: the device was removed"));
        WritebackReport total;
        Status result;
        try {
            for (const auto& pass : passes) {
                auto report = store->writeback(pass);
                if (!report) {
                    result = report.error();
                    break;
                }
                total.pages += report->pages;
                total.blocks += report->blocks;
                total.bytes += report->bytes;
                total.raced += report->raced;
                // As the kernel: a spent limit is EIO, a full device ENOSPC; what was written
                // stays.
                if (report->limit_reached) {
                    result = make_error(EIO, "writeback: writeback_limit spent");
                    break;
                }
                if (report->device_full) {
                    result = make_error(ENOSPC, "writeback: the backing device is full");
                    break;
                }
            }
        } catch (const std::bad_alloc&) {
            result = make_error(ENOMEM, "writeback: out of memory");
        }
        if (total.pages != 0 || !result)
            spdlog::info("writeback: {} page(s) ({} kB compressed) in {} block(s){}{}", total.pages,
                         total.bytes >> 10, total.blocks,
                         total.raced ? fmt::format(", {} changed meanwhile", total.raced) : "",
                         result ? "" : "; " + result.error().message);
        done(std::move(result));
    });
}

namespace {

// MemTotal and MemAvailable in bytes (0 where /proc/meminfo cannot be read).
std::pair<std::uint64_t, std::uint64_t> machine_memory() {
    std::FILE* f = std::fopen("/proc/meminfo", "re");
    if (f == nullptr)
        return {0, 0};
    std::uint64_t total = 0, available = 0;
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
        unsigned long long kb = 0;
        if (std::sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            total = kb * 1024;
        else if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            available = kb * 1024;
    }
    std::fclose(f);
    return {total, available};
}

} // namespace

std::string ZramAttributes::writeback_policy_text() const {
    std::string text = format_writeback_policy(writeback_policy_);
    if (!writeback_last_.empty())
        text += "\nlast pass: " + writeback_last_;
    if (!room_last_.empty())
        text += "\nlast room pass: " + room_last_;
    return text;
}

void ZramAttributes::maybe_writeback(const std::string& device,
                                     std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (!writeback_policy_ || now < writeback_next_ || writeback_running_.load())
        return;
    const WritebackPolicy policy = *writeback_policy_;
    writeback_next_ = now + std::chrono::seconds(policy.interval_seconds);
    if (store_->backing_device().empty()) {
        writeback_last_ = "not run: no backing device";
        return;
    }
    const MmStat mm = store_->mm_stat();
    const auto [total, available] = machine_memory();
    const WritebackDecision decision = decide_writeback(
        policy, {mm.mem_used_total, mm.mem_limit, total, available}, blocks_today(now));
    if (!decision.run) {
        writeback_last_ = "not run: " + decision.reason;
        return;
    }
    writeback_running_.store(true);
    worker_.post([this, device, policy, max_blocks = decision.max_blocks](bool run) {
        const ClearOnExit clear{writeback_running_};
        if (!run)
            return;
        const auto start = std::chrono::steady_clock::now();
        auto report = run_writeback_pass(*store_, policy, max_blocks);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::string text;
        if (!report) {
            text = "failed: " + report.error().message;
            spdlog::error("{}: writeback policy: {}", device, report.error().message);
        } else {
            char line[256];
            std::snprintf(line, sizeof line,
                          "pages=%llu blocks=%llu bytes=%llu raced=%llu seconds=%.3f%s%s%s",
                          static_cast<unsigned long long>(report->pages),
                          static_cast<unsigned long long>(report->blocks),
                          static_cast<unsigned long long>(report->bytes),
                          static_cast<unsigned long long>(report->raced), seconds,
                          report->budget_reached ? " budget_reached" : "",
                          report->limit_reached ? " limit_reached" : "",
                          report->device_full ? " device_full" : "");
            text = line;
            if (report->pages != 0)
                spdlog::info("{}: writeback policy: {} page(s) ({} kB) in {} block(s)", device,
                             report->pages, report->bytes >> 10, report->blocks);
        }
        std::lock_guard done(mutex_);
        writeback_last_ = text;
    });
}

std::uint64_t ZramAttributes::blocks_today(std::chrono::steady_clock::time_point now) {
    // The budget's day: 24 hours from the first pass (or since the last day ended).
    const std::uint64_t writes = store_->bd_stat().writes;
    if (writeback_day_start_ == std::chrono::steady_clock::time_point{} ||
        now - writeback_day_start_ >= std::chrono::hours(24) || writes < writeback_day_writes_) {
        writeback_day_start_ = now;
        writeback_day_writes_ = writes;
    }
    return writes - writeback_day_writes_;
}

bool ZramAttributes::make_room(const std::string& device,
                               std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    const MmStat mm = store_->mm_stat();
    const bool limit_spent = store_->writeback_limit_enable() && store_->writeback_limit() == 0;
    if (!writeback_policy_ || mm.mem_limit == 0 || store_->backing_device().empty() ||
        limit_spent || now < room_pause_until_) {
        store_->set_limit_waits(false);
        return false;
    }
    const RoomDecision decision =
        decide_room(*writeback_policy_, mm.mem_used_total, mm.mem_limit, blocks_today(now));
    if (!decision.reason.empty()) { // the day's budget is spent: writes fail at the limit
        store_->set_limit_waits(false);
        room_last_ = "not run: " + decision.reason;
        return false;
    }
    store_->set_limit_waits(true);
    if (!decision.run || room_running_.exchange(true))
        return true;
    worker_.post([this, device, decision, used = mm.mem_used_total](bool run) {
        const ClearOnExit clear{room_running_};
        if (!run)
            return;
        const auto start = std::chrono::steady_clock::now();
        auto room = trueno::make_room(*store_, decision.bytes, decision.max_blocks);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const MmStat after = store_->mm_stat();
        std::string text;
        bool freed_nothing = true;
        if (!room) {
            text = "failed: " + room.error().message;
            spdlog::error("{}: making room at its mem_limit: {}; writes at the limit fail for a "
                          "minute",
                          device, room.error().message);
        } else {
            const WritebackReport& wb = room->writeback;
            freed_nothing = wb.pages == 0;
            char line[256];
            std::snprintf(line, sizeof line,
                          "pages=%llu blocks=%llu bytes=%llu age=%llu compacted=%llu "
                          "mem_used_total=%llu->%llu seconds=%.3f%s%s",
                          static_cast<unsigned long long>(wb.pages),
                          static_cast<unsigned long long>(wb.blocks),
                          static_cast<unsigned long long>(wb.bytes),
                          static_cast<unsigned long long>(room->min_age_seconds),
                          static_cast<unsigned long long>(room->pages_compacted),
                          static_cast<unsigned long long>(used),
                          static_cast<unsigned long long>(after.mem_used_total), seconds,
                          wb.limit_reached ? " limit_reached" : "",
                          wb.device_full ? " device_full" : "");
            text = line;
            if (!freed_nothing) {
                room_passes_.fetch_add(1);
                spdlog::info("{}: at {}% of its mem_limit: {} page(s) ({} kB) written back in {} "
                             "block(s), the coldest ({} s and older); {} page(s) compacted; "
                             "mem_used_total {} -> {} kB in {:.3f} s",
                             device, kRoomStartPercent, wb.pages, wb.bytes >> 10, wb.blocks,
                             room->min_age_seconds, room->pages_compacted, used >> 10,
                             after.mem_used_total >> 10, seconds);
            } else {
                spdlog::warn("{}: at its mem_limit and nothing could be written back ({}); writes "
                             "at the limit fail for a minute",
                             device,
                             wb.device_full     ? "the backing device is full"
                             : wb.limit_reached ? "writeback_limit is spent"
                                                : "no page in RAM can go");
            }
        }
        std::lock_guard done(mutex_);
        room_last_ = text;
        if (freed_nothing) { // as without a backing device, until then
            room_pause_until_ = std::chrono::steady_clock::now() + std::chrono::minutes(1);
            store_->set_limit_waits(false);
        }
    });
    return true;
}

void ZramAttributes::maybe_compact_backing(const std::string& device,
                                           std::chrono::steady_clock::time_point now) {
    if (now < backing_compaction_next_ || !backing_fragmented(store_->backing_usage()) ||
        backing_compacting_.exchange(true))
        return;
    backing_compaction_next_ = now + std::chrono::minutes(1);
    worker_.post([this, device](bool run) {
        const ClearOnExit clear{backing_compacting_};
        if (!run)
            return;
        const BackingUsage before = store_->backing_usage();
        auto report = store_->compact_backing();
        if (!report) {
            spdlog::error("{}: repacking the backing device: {}", device, report.error().message);
            return;
        }
        spdlog::info("{}: backing device repacked: {} object(s) moved, {} block(s) read, {} "
                     "written, {} freed ({} in use before, {} kB live){}{}{}",
                     device, report->objects, report->blocks_read, report->blocks_written,
                     report->blocks_freed, before.used_blocks, before.live_bytes >> 10,
                     report->damaged ? fmt::format(", {} damaged left", report->damaged) : "",
                     report->limit_reached ? ", writeback_limit reached" : "",
                     report->device_full ? ", device full" : "");
    });
}

// --- recompression -------------------------------------------------------------------------

namespace {

std::optional<RecompAlgorithm> recomp_at(const PageStore& store, unsigned priority) {
    for (auto& a : store.recomp_algorithms())
        if (a.priority == priority) return a;
    return std::nullopt;
}

std::string configured_recomp(const PageStore& store) {
    std::string out;
    for (const auto& a : store.recomp_algorithms())
        out += (out.empty() ? "" : ", ") + std::string("#") + std::to_string(a.priority) + " " + a.algorithm;
    return out.empty() ? "none" : out;
}

Error no_recomp_at(const PageStore& store, unsigned priority) {
    return make_error(EINVAL, "no recompression algorithm at priority " + std::to_string(priority) +
                                  " (set recomp_algorithm first; configured: " + configured_recomp(store) + ")");
}

std::string report_text(const RecompressReport& r) {
    char cpu[32];
    std::snprintf(cpu, sizeof cpu, "%.3f", r.cpu_seconds);
    return "tried=" + std::to_string(r.tried) + " kept=" + std::to_string(r.kept) + " raced=" +
           std::to_string(r.raced) + " bytes_before=" + std::to_string(r.bytes_before) +
           " bytes_after=" + std::to_string(r.bytes_after) + " cpu_seconds=" + cpu;
}

} // namespace

// The kernel's text: per configured priority "#N: " and the algorithm list with the chosen one
// bracketed, one line each.
std::string ZramAttributes::recomp_algorithm_text() const {
    std::string out;
    for (const auto& a : store_->recomp_algorithms()) {
        if (!out.empty()) out += '\n';
        out += "#" + std::to_string(a.priority) + ": " + algorithm_list(a.algorithm);
    }
    return out;
}

// The setting as it can be written back, then the last pass's result when there was one.
std::string ZramAttributes::recompress_policy_text() const {
    std::string out = format_background_policy(recompressor_.policy());
    if (const auto pass = recompressor_.last_pass()) {
        char numbers[96];
        std::snprintf(numbers, sizeof numbers, " seconds=%.1f ratio_before=%.3f ratio_after=%.3f", pass->seconds,
                      pass->ratio_before, pass->ratio_after);
        out += "\nlast pass: number=" + std::to_string(pass->number) + " marked_idle=" +
               std::to_string(pass->marked_idle) + " " + report_text(pass->report) + numbers +
               " retrained=" + (pass->retrained ? "yes" : "no");
        if (!pass->note.empty()) out += " note=\"" + pass->note + "\"";
    }
    return out;
}

// The last recompress write: "none", "running", or how it ended with its counts.
std::string ZramAttributes::recompress_status_text() const {
    const auto m = recompressor_.manual();
    if (m.running) return "running";
    if (m.finished == 0) return "none";
    std::string out = m.stopped ? "stopped " : !m.error.empty() ? "failed " : "done ";
    out += report_text(m.report);
    if (!m.error.empty()) out += " error=\"" + m.error + "\"";
    return out;
}

// "algo=NAME [priority=N]". Unlike the kernel, allowed on the live device: it adds a codec
// generation, and pages compressed with the previous one still decode. Writing the algorithm a
// priority already has changes nothing (its params stay).
Status ZramAttributes::write_recomp_algorithm(const std::string& value) {
    auto args = split_args(value);
    if (!args) return args.error();
    std::optional<std::string> algo;
    int prio = 1;
    for (const auto& a : *args) {
        if (a.key == "algo") {
            algo = a.value;
        } else if (a.key == "priority") {
            auto n = kstrto<int>(a.value, 10);
            if (!n) return make_error(n.error().code, "priority: " + n.error().message);
            prio = *n;
        } else {
            return unknown_key(a.key, "recomp_algorithm", "algo, priority");
        }
    }
    if (!algo) return make_error(EINVAL, "recomp_algorithm needs algo=NAME");
    if (prio < 1 || prio > max_priority)
        return make_error(EINVAL, "priority " + std::to_string(prio) + " is out of range (1.." + std::to_string(max_priority) + ")");
    if (auto ok = check_algorithm_name(*algo); !ok) return ok;
    const auto current = recomp_at(*store_, static_cast<unsigned>(prio));
    if (current && current->algorithm == *algo) return {};
    return store_->set_recomp_algorithm(static_cast<unsigned>(prio), *algo, {});
}

// "algo=NAME" or "priority=N", then level= and/or dict=PATH. The primary algorithm's params
// are fixed at creation (EBUSY, as on the kernel's initialised device); a secondary priority's
// replace its current ones as a new generation.
Status ZramAttributes::write_algorithm_params(const std::string& value) {
    auto args = split_args(value);
    if (!args) return args.error();
    std::optional<int> prio;
    std::optional<std::string> algo;
    std::string params_text;
    for (const auto& a : *args) {
        if (a.key == "priority" || a.key == "level" || a.key == "deflate.winbits") {
            auto n = kstrto<int>(a.value, 10);
            if (!n) return make_error(n.error().code, a.key + ": " + n.error().message);
            if (a.key == "priority") {
                if (*n < 0 || *n > max_priority)
                    return make_error(EINVAL, "priority " + a.value + " is out of range (0.." + std::to_string(max_priority) + ")");
                prio = *n;
            } else if (a.key == "level") {
                params_text += " level=" + a.value;
            } else {
                params_text += " deflate.winbits=" + a.value; // refused below, after the EBUSY case
            }
        } else if (a.key == "algo") {
            if (auto ok = check_algorithm_name(a.value); !ok) return ok;
            algo = a.value;
        } else if (a.key == "dict") {
            params_text += " dict=" + a.value;
        } else {
            return unknown_key(a.key, "algorithm_params", "algo, priority, level, dict, deflate.winbits");
        }
    }
    // As the kernel: priority wins; else algo= names the priority that has that algorithm,
    // looked up from the primary one; else it is the primary algorithm.
    if (!prio && algo) {
        if (*algo == store_->algorithm()) {
            prio = 0;
        } else {
            for (const auto& a : store_->recomp_algorithms())
                if (a.algorithm == *algo) {
                    prio = static_cast<int>(a.priority);
                    break;
                }
            if (!prio)
                return make_error(EINVAL, "algorithm " + *algo + " is neither comp_algorithm (" + store_->algorithm() +
                                              ") nor a recomp_algorithm (" + configured_recomp(*store_) + ")");
        }
    }
    if (!prio || *prio == 0) return busy("algorithm_params of the primary algorithm");
    const auto current = recomp_at(*store_, static_cast<unsigned>(*prio));
    if (!current) return no_recomp_at(*store_, static_cast<unsigned>(*prio));
    if (params_text.find("deflate.winbits") != std::string::npos)
        return make_error(EINVAL, "deflate.winbits is not supported by trueno-zram (its deflate uses the default window)");
    auto params = parse_codec_params(params_text);
    if (!params) return make_error(EINVAL, params.error().message);
    return store_->set_recomp_algorithm(static_cast<unsigned>(*prio), current->algorithm, *params);
}

// "[type=idle|huge|huge_idle] [threshold=N] [max_pages=N] [algo=NAME|priority=N]". Without
// algo or priority every configured priority runs in turn, lowest first (the kernel tries them
// per page in that order). Runs on the device's recompression thread at SCHED_IDLE; the write
// returns once it is queued.
Status ZramAttributes::write_recompress(const std::string& value) {
    auto args = split_args(value);
    if (!args) return args.error();
    RecompressOptions options;
    options.type = RecompressOptions::Type::all; // the kernel's mode 0: every page
    std::optional<unsigned> prio;
    std::optional<std::string> algo;
    for (const auto& a : *args) {
        if (a.key == "type") {
            if (a.value == "idle") options.type = RecompressOptions::Type::idle;
            else if (a.value == "huge") options.type = RecompressOptions::Type::huge;
            else if (a.value == "huge_idle") options.type = RecompressOptions::Type::huge_idle;
            else return make_error(EINVAL, "recompress type must be idle, huge or huge_idle, not '" + a.value + "'");
        } else if (a.key == "max_pages") {
            auto n = kstrto<std::uint64_t>(a.value, 10);
            if (!n) return make_error(n.error().code, "max_pages: " + n.error().message);
            options.max_pages = *n;
        } else if (a.key == "threshold") {
            auto n = kstrto<std::uint32_t>(a.value, 10);
            if (!n) return make_error(n.error().code, "threshold: " + n.error().message);
            if (*n >= huge_class_size)
                return make_error(EINVAL, "threshold must be below " + std::to_string(huge_class_size) + " bytes");
            options.threshold = *n;
        } else if (a.key == "priority") {
            auto n = kstrto<std::uint32_t>(a.value, 10);
            if (!n) return make_error(n.error().code, "priority: " + n.error().message);
            if (*n > static_cast<std::uint32_t>(max_priority))
                return make_error(EINVAL, "priority " + a.value + " is out of range (1.." + std::to_string(max_priority) + ")");
            prio = std::max<unsigned>(*n, 1); // the kernel takes 0 as the first secondary priority
        } else if (a.key == "algo") {
            if (auto ok = check_algorithm_name(a.value); !ok) return ok;
            algo = a.value;
        } else {
            return unknown_key(a.key, "recompress", "type, threshold, max_pages, algo, priority");
        }
    }
    const auto configured = store_->recomp_algorithms();
    if (configured.empty())
        return make_error(EINVAL, "no recompression algorithm configured (set recomp_algorithm first)");
    std::vector<RecompressOptions> steps;
    for (const auto& a : configured) {
        if (prio && a.priority < *prio) continue;
        if (algo && a.algorithm != *algo) continue;
        RecompressOptions step = options;
        step.priority = a.priority;
        step.idle_scheduling = true;
        steps.push_back(step);
        if (prio || algo) break; // one priority asked for: the first that matches
    }
    if (steps.empty()) {
        if (algo) return make_error(EINVAL, "no recomp_algorithm is " + *algo + " (configured: " + configured_recomp(*store_) + ")");
        return no_recomp_at(*store_, *prio);
    }
    if (prio && !algo && steps.front().priority != *prio) return no_recomp_at(*store_, *prio);
    return recompressor_.start_manual(std::move(steps));
}

} // namespace trueno::service
