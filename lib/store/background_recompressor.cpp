#include "trueno/background_recompressor.hpp"

#include "policy_text.hpp"
#include "thread_cpu_time.hpp"
#include "trueno/thread_name.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <limits>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace trueno {

using store::parse_count;
using store::parse_seconds;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIdleNice = 19;
// Batches aim at this much CPU time each: long enough that re-scanning the slot table per
// batch stays cheap, short enough that a stop or a one-off run waits little.
constexpr double kBatchCpuSeconds = 0.1;
constexpr std::uint64_t kMinBatch = 16;
constexpr std::uint64_t kMaxBatch = 4096;
// A pass must keep this many pages before its gain says anything about the dictionary.
constexpr std::uint64_t kMinDriftPages = 64;
// Retrain when a pass's gain falls this far below the gain right after the last training.
constexpr double kDriftFactor = 0.9;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double ratio_of(const MmStat& mm) {
    return mm.mem_used_total == 0 ? 0.0
                                  : static_cast<double>(mm.orig_data_size) / static_cast<double>(mm.mem_used_total);
}

void add_report(RecompressReport& total, const RecompressReport& part) {
    total.tried += part.tried;
    total.kept += part.kept;
    total.raced += part.raced;
    total.bytes_before += part.bytes_before;
    total.bytes_after += part.bytes_after;
    total.grouped += part.grouped;
    total.groups += part.groups;
    total.deduplicated += part.deduplicated;
    total.split += part.split;
}

// The next batch's page count: what took kBatchCpuSeconds in the last one, within bounds.
std::uint64_t next_batch(std::uint64_t tried, double cpu_seconds, std::uint64_t cap) {
    std::uint64_t next = kMaxBatch;
    if (cpu_seconds > 1e-6)
        next = static_cast<std::uint64_t>(static_cast<double>(std::max<std::uint64_t>(tried, 1)) *
                                          kBatchCpuSeconds / cpu_seconds);
    return std::clamp<std::uint64_t>(next, kMinBatch, std::max<std::uint64_t>(cap, kMinBatch));
}

// The policy's codec as a generation of its priority: set only when the current one differs,
// so a policy set again (or the daemon's periodic timer) does not use up generation ids.
// Returns whether a new generation was set.
Result<bool> ensure_policy_codec(PageStore& store, const RecompressPolicy& named, unsigned priority) {
    for (const auto& current : store.recomp_algorithms()) {
        if (current.priority != priority) continue;
        if (current.algorithm == named.algorithm && current.params.level == named.level &&
            (named.dictionary_bytes != 0 || !current.params.dictionary))
            return false;
    }
    CodecParams params;
    params.level = named.level;
    if (auto set = store.set_recomp_algorithm(priority, std::string(named.algorithm), params); !set)
        return set.error();
    return true;
}

// Runs the calling thread at the lowest CPU priority the kernel has; best effort.
void become_idle_priority() {
    sched_param none{};
    (void)::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &none);
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), kIdleNice);
}

} // namespace

Result<std::optional<BackgroundPolicy>> parse_background_policy(std::string_view text) {
    const std::vector<std::string_view> words = store::split_words(text);
    if (words.empty())
        return make_error(EINVAL, "recompress_policy needs \"off\" or a policy name (" + recompress_policy_names() + ")");
    if (words.front() == "off") {
        if (words.size() > 1) return make_error(EINVAL, "\"off\" takes no parameters");
        return std::optional<BackgroundPolicy>{};
    }
    if (!find_recompress_policy(words.front()))
        return make_error(EINVAL, "unknown recompression policy '" + std::string(words.front()) +
                                      "' (known: off " + recompress_policy_names() + ")");
    BackgroundPolicy policy;
    policy.policy = std::string(words.front());
    for (std::size_t i = 1; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        if (eq == std::string_view::npos || eq + 1 == words[i].size())
            return make_error(EINVAL, "'" + std::string(words[i]) + "' is not key=value");
        const auto key = words[i].substr(0, eq);
        const auto value = words[i].substr(eq + 1);
        if (key == "age" || key == "interval") {
            auto s = parse_seconds(key, value);
            if (!s) return s.error();
            if (key == "interval" && *s == 0) return make_error(EINVAL, "interval must be at least 1 second");
            (key == "age" ? policy.age_seconds : policy.interval_seconds) = *s;
        } else if (key == "rate") {
            auto n = parse_count(key, value);
            if (!n) return n.error();
            policy.rate_pages = *n;
        } else if (key == "cpu") {
            auto n = parse_count(key, value);
            if (!n) return n.error();
            if (*n < 1 || *n > 100) return make_error(EINVAL, "cpu is a percentage of one core, 1..100");
            policy.cpu_percent = static_cast<unsigned>(*n);
        } else if (key == "priority") {
            auto n = parse_count(key, value);
            if (!n) return n.error();
            if (*n < 1 || *n > kMaxRecompPriority)
                return make_error(EINVAL, "priority must be 1.." + std::to_string(kMaxRecompPriority));
            policy.priority = static_cast<unsigned>(*n);
        } else if (key == "type") {
            if (value == "idle") policy.type = RecompressOptions::Type::idle;
            else if (value == "huge_idle") policy.type = RecompressOptions::Type::huge_idle;
            else return make_error(EINVAL, "type must be idle or huge_idle, not '" + std::string(value) + "'");
        } else {
            return make_error(EINVAL, "unknown recompress_policy parameter '" + std::string(key) +
                                          "' (known: age, interval, rate, cpu, priority, type)");
        }
    }
    return std::optional<BackgroundPolicy>(std::move(policy));
}

std::string format_background_policy(const std::optional<BackgroundPolicy>& policy) {
    if (!policy) return "off";
    return policy->policy + " age=" + std::to_string(policy->age_seconds) +
           " interval=" + std::to_string(policy->interval_seconds) + " rate=" + std::to_string(policy->rate_pages) +
           " cpu=" + std::to_string(policy->cpu_percent) + " priority=" + std::to_string(policy->priority) +
           " type=" + (policy->type == RecompressOptions::Type::huge_idle ? "huge_idle" : "idle");
}

BackgroundRecompressor::BackgroundRecompressor(std::shared_ptr<PageStore> store)
    : store_(std::move(store)), thread_([this](std::stop_token stop) {
          name_this_thread("tz-recompress");
          // Nothing may leave the thread (std::terminate would end the daemon holding the
          // machine's swap). run() catches what a pass throws; what it throws between passes
          // (a policy copied, say) starts it over after a pause.
          while (!stop.stop_requested()) {
              try {
                  run(stop);
                  return;
              } catch (...) {
                  failures_.note_current("the worker loop");
              }
              try {
                  std::unique_lock lock(mutex_);
                  changed_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
              } catch (...) {
              }
          }
      }) {}

BackgroundRecompressor::~BackgroundRecompressor() {
    // A SCHED_IDLE thread may not get a CPU for a long time on a busy machine: give it normal
    // priority so the batch it is in finishes now and the join below is prompt.
    if (thread_.joinable()) {
        sched_param normal{};
        (void)::pthread_setschedparam(thread_.native_handle(), SCHED_OTHER, &normal);
        if (const pid_t tid = worker_tid_.load(); tid != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 0);
    }
    thread_.request_stop();
    changed_.notify_all();
}

Status BackgroundRecompressor::set_policy(std::optional<BackgroundPolicy> policy) {
    std::lock_guard lock(mutex_);
    if (policy == policy_) return {};
    if (policy) {
        const auto* named = find_recompress_policy(policy->policy);
        if (!named)
            return make_error(EINVAL, "unknown recompression policy '" + policy->policy + "' (known: " +
                                          recompress_policy_names() + ")");
        if (policy->priority < 1 || policy->priority > kMaxRecompPriority)
            return make_error(EINVAL, "priority must be 1.." + std::to_string(kMaxRecompPriority));
        if (policy->cpu_percent < 1 || policy->cpu_percent > 100 || policy->interval_seconds == 0)
            return make_error(EINVAL, "cpu must be 1..100 and interval at least 1 second");
        const bool same_codec = policy_ && policy_->policy == policy->policy && policy_->priority == policy->priority;
        auto set = ensure_policy_codec(*store_, *named, policy->priority);
        if (!set) return set.error();
        if (!same_codec || *set) {
            // A store taken over by a new daemon keeps the dictionary the policy trained.
            bool kept_dictionary = false;
            for (const auto& current : store_->recomp_algorithms())
                kept_dictionary |= current.priority == policy->priority && current.params.dictionary &&
                                   named->dictionary_bytes != 0;
            dictionary_trained_ = !*set && kept_dictionary;
            trained_gain_.reset();
        }
    }
    policy_ = std::move(policy);
    ++policy_generation_;
    passes_ = 0;
    changed_.notify_all();
    return {};
}

void BackgroundRecompressor::set_test_hook(std::function<void()> hook) {
    auto shared = hook ? std::make_shared<const std::function<void()>>(std::move(hook)) : nullptr;
    std::lock_guard lock(mutex_);
    test_hook_ = std::move(shared);
}

std::optional<BackgroundPolicy> BackgroundRecompressor::policy() const {
    std::lock_guard lock(mutex_);
    return policy_;
}

std::optional<BackgroundPass> BackgroundRecompressor::last_pass() const {
    std::lock_guard lock(mutex_);
    return last_pass_;
}

std::uint64_t BackgroundRecompressor::passes() const {
    std::lock_guard lock(mutex_);
    return passes_;
}

std::uint64_t BackgroundRecompressor::dictionaries_trained() const {
    std::lock_guard lock(mutex_);
    return dictionaries_trained_;
}

Status BackgroundRecompressor::start_manual(std::vector<RecompressOptions> steps) {
    if (steps.empty()) return make_error(EINVAL, "nothing to recompress");
    std::lock_guard lock(mutex_);
    if (manual_queued_ || manual_.running)
        return make_error(EBUSY, "a recompression of this device is still running (see recompress_status)");
    const std::uint64_t finished = manual_.finished;
    manual_ = ManualRecompress{};
    manual_.finished = finished;
    manual_.running = true;
    manual_queued_ = std::move(steps);
    changed_.notify_all();
    return {};
}

ManualRecompress BackgroundRecompressor::manual() const {
    std::lock_guard lock(mutex_);
    return manual_;
}

bool BackgroundRecompressor::wait_manual_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return !manual_queued_ && !manual_.running; });
}

bool BackgroundRecompressor::wait_passes(std::uint64_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return passes_ >= count; });
}

void BackgroundRecompressor::run(std::stop_token stop) {
    worker_tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    become_idle_priority();
    std::optional<Clock::time_point> next_pass;
    std::uint64_t seen_generation = 0;
    std::unique_lock lock(mutex_);
    while (!stop.stop_requested()) {
        if (manual_queued_) {
            auto steps = std::move(*manual_queued_);
            manual_queued_.reset();
            const auto hook = test_hook_;
            lock.unlock();
            try {
                if (hook)
                    (*hook)();
                run_manual(stop, std::move(steps));
                lock.lock();
            } catch (...) {
                failures_.note_current("a one-off recompression");
                lock.lock();
                ++manual_.finished;
                try {
                    manual_.error = "failed (out of memory?); see the daemon's log";
                } catch (...) {
                    manual_.error.clear(); // no memory even for that: the log has the count
                }
            }
            manual_.running = false;
            changed_.notify_all();
            continue;
        }
        if (seen_generation != policy_generation_) {
            seen_generation = policy_generation_;
            next_pass = policy_ ? std::optional(Clock::now()) : std::nullopt; // first pass at once
        }
        if (policy_ && next_pass && Clock::now() >= *next_pass) {
            const BackgroundPolicy policy = *policy_;
            const auto hook = test_hook_;
            lock.unlock();
            // A pass that throws (memory for samples or groups exhausted, most likely) is
            // abandoned; the next one comes after the interval as usual.
            try {
                if (hook)
                    (*hook)();
                run_pass(stop, policy, seen_generation);
            } catch (...) {
                failures_.note_current("a recompression pass");
            }
            lock.lock();
            if (seen_generation == policy_generation_)
                next_pass = Clock::now() + std::chrono::seconds(policy.interval_seconds);
            continue;
        }
        auto woken = [&] { return manual_queued_.has_value() || seen_generation != policy_generation_; };
        if (next_pass) changed_.wait_until(lock, stop, *next_pass, woken);
        else changed_.wait(lock, stop, woken);
    }
    // Whatever was queued will not run: say so rather than leave "running" forever.
    if (manual_queued_) {
        manual_queued_.reset();
        manual_.stopped = true;
    }
    manual_.running = false;
    changed_.notify_all();
}

bool BackgroundRecompressor::pause(std::stop_token& stop, double seconds, std::uint64_t generation) {
    std::unique_lock lock(mutex_);
    auto interrupted = [&] { return manual_queued_.has_value() || generation != policy_generation_; };
    if (seconds > 0) {
        const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        changed_.wait_until(lock, stop, until, interrupted);
    }
    return !stop.stop_requested() && !interrupted();
}

void BackgroundRecompressor::run_manual(std::stop_token stop, std::vector<RecompressOptions> steps) {
    RecompressReport total;
    std::string error;
    bool stopped = false;
    const double cpu_start = store::thread_cpu_seconds();
    const std::uint64_t budget = steps.front().max_pages; // 0: no limit, shared by the steps
    for (const auto& step : steps) {
        // In batches, so removing the device need not wait for a whole device's worth. Each
        // batch resumes where the last ended: what it recompressed is now at this priority and
        // what could not shrink is marked, so both are skipped. A page retried because memory
        // ran out counts again, which bounds the step by the page count.
        std::uint64_t step_tried = 0;
        std::uint64_t batch = kMinBatch * 4;
        while (true) {
            if (stop.stop_requested()) {
                stopped = true;
                break;
            }
            RecompressOptions options = step;
            options.idle_scheduling = false; // the whole thread already is
            std::uint64_t want = batch;
            if (budget != 0) want = std::min(want, budget - total.tried);
            if (want == 0) break;
            options.max_pages = want;
            const double before = store::thread_cpu_seconds();
            auto report = store_->recompress(options);
            if (!report) {
                error = report.error().message;
                break;
            }
            add_report(total, *report);
            step_tried += report->tried;
            if (report->tried < want || step_tried >= store_->page_count()) break;
            batch = next_batch(report->tried, store::thread_cpu_seconds() - before, kMaxBatch);
        }
        if (stopped || !error.empty()) break;
    }
    if (!stopped) store_->compact(); // the replaced objects' memory goes back (see run_recompress_policy)
    total.cpu_seconds = store::thread_cpu_seconds() - cpu_start;
    std::lock_guard lock(mutex_);
    manual_.report = total;
    manual_.error = error;
    manual_.stopped = stopped;
    ++manual_.finished;
}

void BackgroundRecompressor::run_pass(std::stop_token stop, const BackgroundPolicy& policy,
                                      std::uint64_t generation) {
    const auto* named = find_recompress_policy(policy.policy);
    if (!named) return; // set_policy checked it
    const auto start = Clock::now();
    const double cpu_start = store::thread_cpu_seconds();
    BackgroundPass pass;
    pass.ratio_before = ratio_of(store_->mm_stat());
    pass.marked_idle = store_->mark_idle(policy.age_seconds);

    bool trained = false;
    {
        std::lock_guard lock(mutex_);
        trained = dictionary_trained_;
    }
    auto train = [&]() {
        auto size = store_->train_recomp_dictionary(policy.priority, named->dictionary_bytes, named->sample_pages);
        if (!size) {
            pass.note = (trained ? "dictionary not retrained: " : "no dictionary yet: ") + size.error().message;
            // Every generation id of the device is used: training again would only burn CPU.
            if (size.error().code == ENOSPC) {
                std::lock_guard lock(mutex_);
                retraining_exhausted_ = true;
            }
            return;
        }
        pass.retrained = true;
        trained = true;
        std::lock_guard lock(mutex_);
        dictionary_trained_ = true;
        ++dictionaries_trained_;
        trained_gain_.reset();
    };
    // The policy's codec may have been replaced by hand meanwhile; put it back.
    auto codec = ensure_policy_codec(*store_, *named, policy.priority);
    if (!codec) pass.note = codec.error().message;
    else if (*codec) trained = false;
    // The dictionary is trained on the device's own pages, so only once there are some.
    if (codec && named->dictionary_bytes != 0 && !trained && pass.marked_idle != 0) train();

    // Where the pass may be by now: pages/second within the rate, CPU time (training and
    // compaction included) within its share of the wall time.
    auto paced_seconds = [&] {
        double wanted = (store::thread_cpu_seconds() - cpu_start) * 100.0 / policy.cpu_percent;
        if (policy.rate_pages != 0)
            wanted = std::max(wanted, static_cast<double>(pass.report.tried) / static_cast<double>(policy.rate_pages));
        return wanted;
    };
    const std::uint64_t rate_cap = policy.rate_pages == 0 ? kMaxBatch : std::max<std::uint64_t>(policy.rate_pages / 4, 1);
    std::uint64_t batch = std::min<std::uint64_t>(kMinBatch * 4, rate_cap);
    bool interrupted = false;
    while (codec) {
        RecompressOptions options;
        options.type = policy.type;
        options.priority = policy.priority;
        options.max_pages = batch;
        options.group_pages = named->group_pages;
        options.dedup = named->dedup;
        const double before = store::thread_cpu_seconds();
        auto report = store_->recompress(options);
        if (!report) {
            pass.note = report.error().message;
            break;
        }
        add_report(pass.report, *report);
        if (report->tried < batch || pass.report.tried >= store_->page_count()) break;
        if (!pause(stop, paced_seconds() - seconds_since(start), generation)) {
            interrupted = true;
            break;
        }
        batch = next_batch(report->tried, store::thread_cpu_seconds() - before, rate_cap);
    }
    if (!stop.stop_requested()) store_->compact();

    // Drift: the kept pages' gain against the one right after the last training.
    if (named->dictionary_bytes != 0 && trained && !pass.retrained && !interrupted &&
        pass.report.kept >= kMinDriftPages && pass.report.bytes_after != 0) {
        const double gain = static_cast<double>(pass.report.bytes_before) / static_cast<double>(pass.report.bytes_after);
        std::optional<double> baseline;
        {
            std::lock_guard lock(mutex_);
            if (!trained_gain_) trained_gain_ = gain;
            else baseline = trained_gain_;
        }
        bool exhausted = false;
        {
            std::lock_guard lock(mutex_);
            exhausted = retraining_exhausted_;
        }
        if (baseline && gain < *baseline * kDriftFactor && !exhausted) train();
    }
    // The last batch, compaction and training are paid for here, so the share holds per pass.
    if (!interrupted && !pause(stop, paced_seconds() - seconds_since(start), generation)) interrupted = true;
    if (interrupted && pass.note.empty()) pass.note = stop.stop_requested() ? "stopped" : "interrupted";

    pass.report.cpu_seconds = store::thread_cpu_seconds() - cpu_start;
    pass.seconds = seconds_since(start);
    pass.ratio_after = ratio_of(store_->mm_stat());
    std::lock_guard lock(mutex_);
    if (generation != policy_generation_) return; // the policy changed meanwhile: not its pass
    pass.number = ++passes_;
    last_pass_ = std::move(pass);
    changed_.notify_all();
}

} // namespace trueno
