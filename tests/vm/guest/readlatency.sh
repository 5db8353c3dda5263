#!/bin/sh
# Measurement (on request): the latency of one 4 KiB read through kernel zram and through
# trueno-zram (ublk), the same 64 MiB of real pages on each, lz4 on both. A swap-in of one page
# is such a read; kernel zram serves it in the reading task, trueno-zram in a round trip to the
# daemon. fio, O_DIRECT random reads: one at a time (psync) and 8 in flight (libaio), 15 s
# each, the two devices taking turns, twice. Prints IOPS and fio's completion-latency p50 and
# p99 per run; passes when every run measured something and the data read back intact.
. /tests/common.sh
name=readlatency
command -v fio >/dev/null || { fail $name "no fio in the initramfs"; exit 0; }
[ -b /dev/vda ] || { fail $name "no corpus disk /dev/vda"; exit 0; }
dd if=/dev/vda of=/tmp/corpus bs=1M count=64 2>/dev/null
[ "$(stat -c %s /tmp/corpus)" = 67108864 ] || { fail $name "the corpus disk holds less than 64 MiB"; exit 0; }
modprobe zram num_devices=1 2>/dev/null
echo lz4 >/sys/block/zram0/comp_algorithm && echo 128M >/sys/block/zram0/disksize ||
  { fail $name "kernel zram setup"; exit 0; }
start_daemon || { fail $name "daemon start"; exit 0; }
id=$(create 134217728 lz4) || { fail $name "CreateDevice failed"; exit 0; }
wait_for_node /dev/ublkb$id || { fail $name "/dev/ublkb$id did not appear"; exit 0; }
for dev in /dev/zram0 /dev/ublkb$id; do
  dd if=/tmp/corpus of=$dev bs=1M oflag=direct 2>/dev/null || { fail $name "writing $dev"; exit 0; }
done

ok=1
# run DEVICE ENGINE DEPTH: one fio run; prints its line, clears ok if nothing was measured.
run() {
  fio --name=read --filename=$1 --size=64M --rw=randread --bs=4k --direct=1 --ioengine=$2 \
      --iodepth=$3 --time_based --runtime=15 --output=/tmp/fio.out >/dev/null 2>&1 || { ok=0; echo "fio on $1 failed"; cat /tmp/fio.out; return; }
  iops=$(sed -n 's/.*IOPS=\([^,]*\),.*/\1/p' /tmp/fio.out | head -1)
  unit=$(sed -n 's/.*clat percentiles (\([a-z]*\)).*/\1/p' /tmp/fio.out | head -1)
  p50=$(sed -n 's/.*50\.00th=\[ *\([0-9]*\)\].*/\1/p' /tmp/fio.out | head -1)
  p99=$(sed -n 's/.*99\.00th=\[ *\([0-9]*\)\].*/\1/p' /tmp/fio.out | head -1)
  [ -n "$iops" ] && [ -n "$p50" ] && [ -n "$p99" ] || { ok=0; echo "no result parsed from fio on $1"; cat /tmp/fio.out; return; }
  echo "guest: READLATENCY $1 depth $3: $iops IOPS, p50 $p50 p99 $p99 $unit"
}
for round in 1 2; do
  for dev in /dev/zram0 /dev/ublkb$id; do
    run $dev psync 1
    run $dev libaio 8
  done
done
for dev in /dev/zram0 /dev/ublkb$id; do
  cmp -n 67108864 $dev /tmp/corpus || { ok=0; echo "$dev does not read back what was written"; }
done
stop_daemon
[ $ok = 1 ] && pass $name || fail $name "see above"
