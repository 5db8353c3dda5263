#!/bin/sh
# Measurement (on request): the latency of one 4 KiB read of a written-back page (from the
# virtio backing disk /dev/vdb) against one of a page in RAM, on one device with one queue,
# lz4, 64 MiB of real pages: the first half stays in RAM, the second is written back. fio,
# O_DIRECT random reads, 15 s each, twice:
#   ram    one read at a time from the first half
#   disk   one read at a time from the second half
#   mixed  both at once, the disk half 8 in flight: reads of pages in RAM must not wait behind
#          the disk's (they run on the queue's thread, the disk's on a thread of their own)
# Prints IOPS and fio's completion-latency p50 and p99 per run; passes when every run measured
# something, the second half was read from the disk, and the device read back intact.
. /tests/common.sh
name=writebacklatency
command -v fio >/dev/null || { fail $name "no fio in the initramfs"; exit 0; }
[ -b /dev/vda ] && [ -b /dev/vdb ] || { fail $name "no corpus disk (/dev/vda) or backing disk (/dev/vdb)"; exit 0; }
dd if=/dev/vda of=/tmp/corpus bs=1M count=64 2>/dev/null
[ "$(stat -c %s /tmp/corpus)" = 67108864 ] || { fail $name "the corpus disk holds less than 64 MiB"; exit 0; }
field() { echo "$1" | tr -s ' ' | sed 's/^ //' | cut -d' ' -f$2; }

start_daemon --queues 1 --standby false || { fail $name "daemon start"; exit 0; }
id=$(create 67108864 lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
dd if=/tmp/corpus of=$dev bs=1M oflag=direct 2>/dev/null || { fail $name "writing $dev"; exit 0; }
setattr $id backing_dev /dev/vdb >/dev/null || { fail $name "backing_dev /dev/vdb refused"; exit 0; }
setattr $id writeback page_indexes=8192-16383 >/dev/null || { fail $name "writeback refused"; exit 0; }
bd=$(attr $id bd_stat)
echo "guest: written back: bd_stat $bd"
[ "$(field "$bd" 1)" -gt 4000 ] || { fail $name "only $(field "$bd" 1) pages written back"; exit 0; }

ok=1
# run TAG OFFSET ENGINE DEPTH: one fio run over 32 MiB from OFFSET, in the background; its
# output in /tmp/fio-TAG.out.
run() {
  fio --name=$1 --filename=$dev --offset=$2 --size=32M --rw=randread --bs=4k --direct=1 \
      --ioengine=$3 --iodepth=$4 --time_based --runtime=15 --output=/tmp/fio-$1.out >/dev/null 2>&1 ||
    echo failed >>/tmp/fio-$1.out
}
# show TAG LABEL: its line; clears ok if nothing was measured.
show() {
  out=/tmp/fio-$1.out
  iops=$(sed -n 's/.*IOPS=\([^,]*\),.*/\1/p' $out | head -1)
  unit=$(sed -n 's/.*clat percentiles (\([a-z]*\)).*/\1/p' $out | head -1)
  p50=$(sed -n 's/.*50\.00th=\[ *\([0-9]*\)\].*/\1/p' $out | head -1)
  p99=$(sed -n 's/.*99\.00th=\[ *\([0-9]*\)\].*/\1/p' $out | head -1)
  if [ -z "$iops" ] || [ -z "$p50" ] || [ -z "$p99" ] || grep -q '^failed' $out; then
    ok=0; echo "no result from fio ($2)"; cat $out; return
  fi
  echo "guest: WBLATENCY $2: $iops IOPS, p50 $p50 p99 $p99 $unit"
}
reads_before=$(field "$(attr $id bd_stat)" 2)
for round in 1 2; do
  run ram 0 psync 1; show ram "in RAM, 1 at a time"
  run disk 32M psync 1; show disk "written back, 1 at a time"
  run mixed-disk 32M libaio 8 &
  disk_job=$!
  run mixed-ram 0 psync 1
  wait $disk_job # not a bare wait: the daemon is this shell's job too
  show mixed-ram "in RAM, 1 at a time, beside 8 written-back in flight"
  show mixed-disk "written back, 8 in flight, beside reads in RAM"
done
reads=$(($(field "$(attr $id bd_stat)" 2) - reads_before))
echo "guest: pages read from the backing disk during the runs: $reads"
[ "$reads" -gt 0 ] || { ok=0; echo "bd_stat counts no reads from the backing disk"; }
cmp -n 67108864 $dev /tmp/corpus || { ok=0; echo "$dev does not read back what was written"; }
stop_daemon
grep 'reads from the backing device, arrival to commit' /tmp/zramd.log | sed 's/^/guest: daemon: /'
[ $ok = 1 ] && pass $name || fail $name "see above"
