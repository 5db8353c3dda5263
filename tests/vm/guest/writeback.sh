#!/bin/sh
# VM test: writeback to a backing device. Real pages (the corpus disk, /dev/vda) on a device
# whose backing device is a virtio disk (/dev/vdb): marked idle and written back, their memory
# freed, read back identical from the disk; the same after the daemon is killed and started
# again; rewrites free their blocks, compact repacks the rest; the limit; the policy on a timer;
# and a backing device that returns other bytes (a loop device over a file cut short) makes that
# device's written-back pages read errors, while the daemon serves on.
. /tests/common.sh
name=writeback
corpus=/dev/vda
disk=/dev/vdb
field() { echo "$1" | tr -s ' ' | sed 's/^ //' | cut -d' ' -f$2; }
errno_of() { echo "$1" | sed -n 's/.*"errno": *\([0-9]*\).*/\1/p'; }
[ -b $corpus ] && [ -b $disk ] || { fail $name "no corpus disk ($corpus) or backing disk ($disk)"; exit 0; }
insmod /lib/modules/loop.ko 2>/dev/null

start_daemon --standby false || { fail $name "daemon start"; exit 0; }
id=$(create 67108864 lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
head -c 33554432 $corpus >/tmp/data
dd if=/tmp/data of=$dev bs=1M conv=fsync 2>/dev/null

# Errors first, as the kernel's: no backing device (ENODEV), not a block device (ENOTBLK).
out=$(setattr $id writeback idle) && { fail $name "writeback without a backing device was taken"; exit 0; }
[ "$(errno_of "$out")" = 19 ] || { fail $name "writeback without a backing device: want ENODEV, got $out"; exit 0; }
out=$(setattr $id backing_dev /tmp/data) && { fail $name "a regular file was taken as backing_dev"; exit 0; }
[ "$(errno_of "$out")" = 15 ] || { fail $name "backing_dev /tmp/data: want ENOTBLK, got $out"; exit 0; }
setattr $id backing_dev $disk >/dev/null || { fail $name "backing_dev $disk refused"; exit 0; }
[ "$(attr $id backing_dev)" = $disk ] || { fail $name "backing_dev reads $(attr $id backing_dev)"; exit 0; }

mm_before=$(attr $id mm_stat)
setattr $id idle all >/dev/null || { fail $name "idle all refused"; exit 0; }
t0=$(date +%s)
setattr $id writeback idle >/dev/null || { fail $name "writeback idle refused"; exit 0; }
t1=$(date +%s)
bd=$(attr $id bd_stat) # before compact, which may repack a few blocks too
setattr $id compact 1 >/dev/null
mm_after=$(attr $id mm_stat)
echo "guest: before writeback: mm_stat $mm_before"
echo "guest: after writeback ($((t1 - t0)) s) and compact: mm_stat $mm_after; bd_stat $bd"
count=$(field "$bd" 1)
writes=$(field "$bd" 3)
[ "$count" -gt 4000 ] || { fail $name "only $count pages written back"; exit 0; }
# Packed: fewer blocks than pages (the kernel writes one block per page).
[ "$writes" -lt "$count" ] || { fail $name "$writes blocks for $count pages: not packed"; exit 0; }
echo "guest: $count pages in $writes blocks: $((writes * 1000 / count)) blocks per 1000 pages (the kernel: 1000)"
[ "$(field "$mm_after" 1)" = "$(field "$mm_before" 1)" ] || { fail $name "orig_data_size changed"; exit 0; }
[ "$(field "$mm_after" 2)" -lt "$(($(field "$mm_before" 2) / 10))" ] || { fail $name "compr_data_size did not fall"; exit 0; }
[ "$(field "$mm_after" 3)" -lt "$(($(field "$mm_before" 3) / 2))" ] || { fail $name "mem_used_total did not fall"; exit 0; }

drop_caches
head -c 33554432 $dev | cmp - /tmp/data || { fail $name "written-back pages read back wrong"; exit 0; }
reads=$(field "$(attr $id bd_stat)" 2)
[ "$reads" -gt 0 ] || { fail $name "bd_stat counts no reads from the backing device"; exit 0; }

# The daemon killed and started again: it opens the backing disk again and serves every page.
kill -KILL $DAEMON
wait $DAEMON 2>/dev/null
DAEMON=
start_daemon --standby false || { fail $name "daemon did not start again"; exit 0; }
[ "$(attr $id backing_dev)" = $disk ] || { fail $name "backing_dev after restart: $(attr $id backing_dev)"; exit 0; }
[ "$(field "$(attr $id bd_stat)" 1)" = "$count" ] || { fail $name "bd_stat after restart: $(attr $id bd_stat)"; exit 0; }
drop_caches
head -c 33554432 $dev | cmp - /tmp/data || { fail $name "written-back pages read back wrong after a restart"; exit 0; }

# Rewrites free their places; writing back again reuses them.
dd if=/tmp/data of=$dev bs=1M count=8 conv=fsync 2>/dev/null
# Every other page of the next 8 MiB too: their blocks (packed in page order) keep about half
# their bytes, sparse.
i=2048
while [ $i -lt 4096 ]; do
  dd if=/tmp/data of=$dev bs=4096 skip=$i seek=$i count=1 conv=notrunc 2>/dev/null
  i=$((i + 2))
done
sync
left=$(field "$(attr $id bd_stat)" 1)
[ "$left" -lt "$count" ] || { fail $name "rewrites did not free written-back pages ($left of $count)"; exit 0; }
# The rewrites left blocks sparse: compact repacks them (new blocks written, bd_writes grows),
# and every page still reads back.
writes_before=$(field "$(attr $id bd_stat)" 3)
setattr $id compact 1 >/dev/null || { fail $name "compact refused"; exit 0; }
bd=$(attr $id bd_stat)
echo "guest: compact after rewrites: bd_stat $bd (blocks written before: $writes_before)"
[ "$(field "$bd" 3)" -gt "$writes_before" ] || { fail $name "compact repacked nothing: bd_stat $bd"; exit 0; }
[ "$(field "$bd" 1)" = "$left" ] || { fail $name "compact changed the pages written back: $bd"; exit 0; }
drop_caches
head -c 33554432 $dev | cmp - /tmp/data || { fail $name "pages read back wrong after repacking"; exit 0; }
# The limit: enabled with 3 blocks, spent by the next writeback (EIO), then 0.
setattr $id writeback_limit 3 >/dev/null && setattr $id writeback_limit_enable 1 >/dev/null ||
  { fail $name "writeback_limit refused"; exit 0; }
out=$(setattr $id writeback page_indexes=0-2047) && { fail $name "a writeback past the limit succeeded"; exit 0; }
[ "$(errno_of "$out")" = 5 ] || { fail $name "writeback past the limit: want EIO, got $out"; exit 0; }
[ "$(attr $id writeback_limit)" = 0 ] || { fail $name "writeback_limit reads $(attr $id writeback_limit)"; exit 0; }
setattr $id writeback_limit_enable 0 >/dev/null
setattr $id writeback page_indexes=0-2047 >/dev/null || { fail $name "writeback of a page range refused"; exit 0; }
drop_caches
head -c 33554432 $dev | cmp - /tmp/data || { fail $name "pages read back wrong after rewrites and a second writeback"; exit 0; }

# The policy on a timer: every page rewritten (back in RAM, its blocks freed), then
# writeback_policy on with a 2 s age and a 1 s interval; the daemon's own passes write the
# pages back once they are old enough, without a writeback written by anyone.
dd if=/tmp/data of=$dev bs=1M conv=fsync 2>/dev/null
[ "$(field "$(attr $id bd_stat)" 1)" = 0 ] || { fail $name "rewriting every page left $(attr $id bd_stat)"; exit 0; }
setattr $id writeback_policy "on age=2 interval=1 budget=0 used=0" >/dev/null ||
  { fail $name "writeback_policy refused"; exit 0; }
# Its passes come every second; each takes the pages that have become old enough (the first,
# at once, none). Waited for: most of the pages on the device, which only its passes put there.
i=0
while [ $i -lt 60 ] && [ "$(field "$(attr $id bd_stat)" 1)" -le 4000 ]; do
  sleep 0.5
  i=$((i + 1))
done
timed=$(field "$(attr $id bd_stat)" 1)
policy=$(attr $id writeback_policy)
echo "guest: the policy on a timer wrote back $timed pages within $((i / 2)) s; now: $policy"
[ "$timed" -gt 4000 ] || { fail $name "the policy wrote back only $timed pages in 30 s ($policy)"; exit 0; }
echo "$policy" | grep -q 'last pass: pages=' || { fail $name "writeback_policy shows no pass: $policy"; exit 0; }
setattr $id writeback_policy off >/dev/null || { fail $name "writeback_policy off refused"; exit 0; }
drop_caches
head -c 33554432 $dev | cmp - /tmp/data || { fail $name "pages the policy wrote back read back wrong"; exit 0; }

# A backing device that returns other bytes than were written: a loop device over a file cut
# short (reads past its end come back as zeros). That device's written-back pages read as
# errors; the daemon and the first device serve on.
if losetup -f >/dev/null 2>&1; then
  head -c 16777216 /dev/zero >/tmp/loopfile
  loopdev=$(losetup -f)
  losetup $loopdev /tmp/loopfile || { fail $name "losetup failed"; exit 0; }
  id2=$(create 16777216 lz4) || { fail $name "second CreateDevice failed"; exit 0; }
  dev2=/dev/ublkb$id2
  wait_for_node $dev2 || { fail $name "$dev2 did not appear"; exit 0; }
  head -c 8388608 /tmp/data | dd of=$dev2 bs=1M conv=fsync 2>/dev/null
  setattr $id2 backing_dev $loopdev >/dev/null || { fail $name "backing_dev $loopdev refused"; exit 0; }
  setattr $id2 writeback page_indexes=0-2047 >/dev/null || { fail $name "writeback to $loopdev refused"; exit 0; }
  : >/tmp/loopfile
  drop_caches
  if dd if=$dev2 of=/dev/null bs=4k count=256 2>/dev/null; then
    fail $name "pages written back to a device that lost them read without error"; exit 0
  fi
  failed_reads=$(field "$(attr $id2 io_stat)" 1)
  [ "$failed_reads" -gt 0 ] || { fail $name "io_stat counts no failed reads: $(attr $id2 io_stat)"; exit 0; }
  echo "guest: backing device cut short: reads of $dev2 failed (io_stat $(attr $id2 io_stat)), $dev served on"
  drop_caches
  head -c 33554432 $dev | cmp - /tmp/data || { fail $name "the first device read wrong beside the failing one"; exit 0; }
else
  echo "guest: no loop devices in this kernel: the failing backing device is not tested"
  fail $name "no loop device for the failing-device case"; exit 0
fi
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
