// A System V shared memory key of its own for one test, whose segment is removed when the test
// ends (however it ends), so tests neither collide nor leave locked memory behind.
#pragma once

#include <atomic>
#include <cstdint>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

namespace trueno::test {

class SharedMemoryKey {
public:
    SharedMemoryKey() : key_(next()) { remove(); }
    ~SharedMemoryKey() { remove(); }
    SharedMemoryKey(const SharedMemoryKey&) = delete;
    SharedMemoryKey& operator=(const SharedMemoryKey&) = delete;

    std::int32_t value() const { return key_; }
    // A key with no segment behind it.
    static std::int32_t unused() {
        std::int32_t key = next();
        if (int id = ::shmget(key, 0, 0); id >= 0)
            ::shmctl(id, IPC_RMID, nullptr);
        return key;
    }

private:
    static std::int32_t next() {
        static std::atomic<std::uint32_t> counter{0};
        // 0x7e5xxxxx: the test range; the pid keeps parallel test runs apart.
        return static_cast<std::int32_t>(0x7e500000u |
                                         ((static_cast<std::uint32_t>(::getpid()) & 0xfffu) << 8) |
                                         (counter++ & 0xffu));
    }
    void remove() const {
        if (int id = ::shmget(key_, 0, 0); id >= 0)
            ::shmctl(id, IPC_RMID, nullptr);
    }
    std::int32_t key_;
};

} // namespace trueno::test
