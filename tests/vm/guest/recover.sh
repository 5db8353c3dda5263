#!/bin/sh
# VM test: the daemon dies (SIGKILL) and stops (SIGTERM) while its device holds data; the
# device and its I/O wait in the kernel, and the same command line started again serves every
# byte, with the statistics going on from where they were. Removal (RemoveDevice) frees the
# device and its memory for good.
. /tests/common.sh
name=recover-restart
key_of() { printf '%d' $((0x745a0000 + $1)); } # the store's System V key (decimal, as /proc lists it)
has_segment() { awk -v k="$(key_of $1)" '$1 == k {found = 1} END {exit !found}' /proc/sysvipc/shm; }
stat_of() { attr $1 $2 | tr -s ' ' | sed 's/^ //'; }

# No standby: this test is of the device waiting, dead, for a daemon started by hand.
start_daemon --standby false || { fail $name "daemon start"; exit 0; }
id=$(create 67108864 lzo-rle) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
has_segment $id || { fail $name "no shared memory segment for the store of $dev"; exit 0; }
# 8 MiB of random data, 8 MiB of the daemon's own binary (compressible), a gap, a tail.
head -c 8388608 /dev/urandom >/tmp/data
for i in 1 2 3 4 5 6 7 8 9 10; do cat /bin/trueno-zramd; done | head -c 8388608 >>/tmp/data
[ "$(stat -c %s /tmp/data)" = 16777216 ] || { fail $name "could not make 16 MiB of test data"; exit 0; }
dd if=/tmp/data of=$dev bs=1M conv=fsync 2>/dev/null
dd if=/tmp/data of=$dev bs=1M seek=40 count=2 conv=fsync 2>/dev/null
blkdiscard -o 1048576 -l 1048576 $dev || { fail $name "blkdiscard failed"; exit 0; }
head -c 1048576 /tmp/data >/tmp/expect && head -c 1048576 /dev/zero >>/tmp/expect
tail -c +2097153 /tmp/data >>/tmp/expect
mm_before=$(stat_of $id mm_stat)
io_before=$(stat_of $id io_stat)
echo "guest: before: mm_stat $mm_before; io_stat $io_before"

kill -KILL $DAEMON
wait $DAEMON 2>/dev/null
DAEMON=
sleep 1
[ -b $dev ] || { fail $name "$dev went away with its daemon"; exit 0; }
has_segment $id || { fail $name "the store's memory went away with its daemon"; exit 0; }
grep -q Unevictable /proc/meminfo && echo "guest: while dead: $(grep -E '^(Shmem|Unevictable):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
# A read issued while no daemon runs waits in the kernel and completes after the restart.
drop_caches
dd if=$dev of=/tmp/while-dead bs=1M count=16 2>/dev/null &
reader=$!
sleep 2
kill -0 $reader 2>/dev/null || { fail $name "a read while the daemon was dead did not wait (it ended)"; exit 0; }
start_daemon || { fail $name "daemon did not start again"; exit 0; }
wait $reader || { fail $name "the read that waited failed after the restart"; exit 0; }
echo "guest: restarted daemon: $(grep -E 'recover' /tmp/zramd.log | tail -2 | tr '\n' ' ')"
head -c 16777216 /tmp/expect | cmp - /tmp/while-dead || { fail $name "the read that waited returned wrong data"; exit 0; }
drop_caches
head -c 16777216 $dev >/tmp/now
head -c 16777216 /tmp/expect | cmp - /tmp/now || { fail $name "data differs after SIGKILL and restart"; exit 0; }
dd if=$dev of=/tmp/tail bs=1M skip=40 count=2 2>/dev/null
head -c 2097152 /tmp/data | cmp - /tmp/tail || { fail $name "data at 40 MiB differs after restart"; exit 0; }
mm_after=$(stat_of $id mm_stat)
io_after=$(stat_of $id io_stat)
echo "guest: after SIGKILL: mm_stat $mm_after; io_stat $io_after"
# orig_data_size, compr_data_size, same_pages and huge_pages are what the slots hold: equal.
for f in 1 2 6 8; do
  [ "$(echo "$mm_before" | cut -d' ' -f$f)" = "$(echo "$mm_after" | cut -d' ' -f$f)" ] ||
    { fail $name "mm_stat field $f changed across the restart: $mm_before -> $mm_after"; exit 0; }
done
# notify_free (discards) goes on from where it was.
[ "$(echo "$io_before" | cut -d' ' -f4)" = "$(echo "$io_after" | cut -d' ' -f4)" ] ||
  { fail $name "io_stat notify_free changed: $io_before -> $io_after"; exit 0; }
attr $id debug_stat | grep -q 'recoveries 1\\n' || { fail $name "debug_stat does not count the recovery: $(attr $id debug_stat)"; exit 0; }

# A planned stop (SIGTERM) leaves the device to the next daemon too, at once.
stop_daemon || { fail $name "daemon did not stop on SIGTERM"; exit 0; }
[ -b $dev ] || { fail $name "$dev went away on SIGTERM"; exit 0; }
start_daemon || { fail $name "daemon did not start after SIGTERM"; exit 0; }
drop_caches
head -c 16777216 $dev >/tmp/now
head -c 16777216 /tmp/expect | cmp - /tmp/now || { fail $name "data differs after SIGTERM and restart"; exit 0; }
attr $id debug_stat | grep -q 'recoveries 2\\n' || { fail $name "second recovery not counted"; exit 0; }
# The device works on: new writes.
dd if=/tmp/data of=$dev bs=1M seek=20 count=4 conv=fsync 2>/dev/null
drop_caches
dd if=$dev of=/tmp/new bs=1M skip=20 count=4 2>/dev/null
head -c 4194304 /tmp/data | cmp - /tmp/new || { fail $name "a write after recovery reads back wrong"; exit 0; }

# Removal is for good: the device and its memory go.
call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice failed"; exit 0; }
i=0
while [ -e /sys/block/ublkb$id ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e /sys/block/ublkb$id ] || { fail $name "ublkb$id still present after RemoveDevice"; exit 0; }
has_segment $id && { fail $name "the store's memory outlived RemoveDevice"; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
