// Reads of written-back pages, served off the queue thread. Such a read waits for the backing
// device (tens of microseconds for a local disk, milliseconds or more for a network one); on
// the queue thread it would hold up every other request of the queue, swap-ins of pages in RAM
// included. The queue hands the tag to this thread instead and serves on; the thread runs the
// read and reports it back through an eventfd the queue's ring polls.
//
// Contract:
//   - hand_off() and collect() are the queue thread's; serve runs on this object's thread, one
//     request at a time, in the order handed off.
//   - Neither hand_off() nor collect() allocates or blocks beyond a short mutex: both lists are
//     made with room for every tag (capacity depth; a tag is handed off at most once until it
//     is collected).
//   - collect() hands every finished tag, with what serve returned, to `done`, oldest first, and
//     clears the eventfd first, so a read that finishes meanwhile makes it readable again.
//   - stop() (and the destructor) lets the read in progress finish, drops the ones not started
//     (their tags stay uncommitted: the kernel keeps those requests for the next server) and
//     joins the thread. Finished reads not yet collected stay collectable.
#pragma once

#include "trueno/result.hpp"

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trueno::ublk {

class BackingReads {
public:
    // Runs one handed-off request; returns what COMMIT_AND_FETCH_REQ reports for it.
    using Serve = std::function<int(unsigned tag)>;

    // Makes the eventfd and the lists and starts the thread, named `name`.
    static Result<std::unique_ptr<BackingReads>> create(unsigned depth, std::string name,
                                                        Serve serve);
    ~BackingReads();
    BackingReads(const BackingReads&) = delete;
    BackingReads& operator=(const BackingReads&) = delete;

    // Readable when a finished read waits to be collected.
    int event_fd() const { return event_fd_; }
    void hand_off(unsigned tag);
    // done(unsigned tag, int result) for each finished read.
    template <typename Done> void collect(Done&& done) {
        clear_event();
        std::unique_lock guard(lock_);
        finished_.swap(collecting_);
        outstanding_ -= collecting_.size();
        guard.unlock();
        for (const Finished& f : collecting_)
            done(f.tag, f.result);
        collecting_.clear();
    }
    // Handed off and not yet collected.
    std::size_t in_flight() const;
    void stop();

private:
    struct Finished {
        unsigned tag;
        int result;
    };
    BackingReads(unsigned depth, Serve serve);
    void run(const std::string& name);
    void clear_event();

    Serve serve_;
    int event_fd_ = -1;
    mutable std::mutex lock_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::vector<unsigned> waiting_;     // a ring of handed-off tags not started yet
    std::size_t first_waiting_ = 0;     // its oldest
    std::size_t waiting_count_ = 0;
    std::vector<Finished> finished_;    // filled by the thread
    std::vector<Finished> collecting_;  // the queue thread's, swapped with finished_
    std::size_t outstanding_ = 0;       // handed off, not collected
    std::thread thread_;
};

} // namespace trueno::ublk
