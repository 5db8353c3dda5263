#!/bin/sh
# VM test 2: the device as swap in a VM with little RAM. A program fills well over the free
# memory with checksummed pages; swap must really be used and every page must come back.
. /tests/common.sh
name=swap
# At the kernel's default vm settings: nothing here sets a sysctl (trueno.wsf=N on the kernel
# command line sets vm.watermark_scale_factor, for experiments only).
wsf=$(sed -n 's/.*trueno\.wsf=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$wsf" ] && echo $wsf >/proc/sys/vm/watermark_scale_factor
echo "guest: vm.watermark_scale_factor $(cat /proc/sys/vm/watermark_scale_factor)"
start_daemon || { fail $name "daemon start"; exit 0; }
id=$(create 805306368 lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
# Writeback throttling would make kswapd wait for the daemon's earlier writes before issuing
# more; kernel zram (bio-based) has none, and swap here must not depend on it.
echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
mkswap $dev >/dev/null || { fail $name "mkswap failed"; exit 0; }
swap_on $dev || { fail $name "swapon failed"; exit 0; }
# Twice the free memory, about as compressible as real process memory (lz4 ~3:1): more than
# half of it must go through swap, and the store grows by tens of MB while free memory sits at
# the watermarks. trueno.fill=PERCENT and trueno.noise=N (page-verify --noise) override.
fill=$(sed -n 's/.*trueno\.fill=\([0-9]*\).*/\1/p' /proc/cmdline)
noise=$(sed -n 's/.*trueno\.noise=\([0-9]*\).*/\1/p' /proc/cmdline)
free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
echo "guest: daemon $(grep -E '^(VmRSS|VmLck)' /proc/$DAEMON/status | tr -s ' \t' ' ' | tr '\n' ' ')"
mb=$((free_kb * ${fill:-200} / 100 / 1024))
echo "guest: MemAvailable ${free_kb} kB, filling $mb MB (noise ${noise:-20})"
rm -f /tmp/go
# With trueno.debug=1 on the kernel command line: every 5 s print memory, swap, each daemon
# thread's state and kernel stack, and the device's busy tags (tests/vm/thread_monitor.cpp), so
# a hang shows where each thread waits.
if grep -q 'trueno.debug=1' /proc/cmdline; then
  echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
  thread-monitor $DAEMON 5 ublkb$id &
fi
swappable page-verify --noise ${noise:-20} $mb /tmp/go >/tmp/pv.log 2>&1 &
pv=$!
i=0
while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q FILLED /tmp/pv.log || { fail $name "page-verify did not fill ($(cat /tmp/pv.log))"; tail -20 /tmp/zramd.log; exit 0; }
used=$(awk -v d=$dev '$1 == d {print $4}' /proc/swaps)
# One read of mm_stat: its fields move while the kernel is still swapping.
stat=$(attr $id mm_stat)
orig=$(echo "$stat" | awk '{print $1}')
used_mem=$(echo "$stat" | awk '{print $3}')
echo "guest: swap used ${used} kB; mm_stat $stat"
echo "guest: debug_stat $(call GetAttributes "{\"id\": $id}" | sed -n 's/^ *"debug_stat": *"\(.*\)",\{0,1\}$/\1/p')"
out=$(call RemoveDevice "{\"id\": $id}" 2>&1) && { fail $name "RemoveDevice of active swap succeeded"; exit 0; }
echo "$out" | grep -q DeviceBusy || { fail $name "RemoveDevice of active swap: expected DeviceBusy, got: $out"; exit 0; }
touch /tmp/go
wait $pv
rc=$?
cat /tmp/pv.log
if [ $rc != 0 ] && dmesg | grep -q 'Killed process [0-9]* (page-verify)'; then
  oom_report
  fail $name "page-verify was killed by the OOM killer: memory ran out ($(dmesg | grep -m1 -o 'Out of memory.*'))"
  exit 0
fi
[ $rc = 0 ] || { fail $name "pages lost or corrupted"; exit 0; }
[ "${used:-0}" -gt 0 ] || { fail $name "swap was not used"; exit 0; }
# What did not fit in free memory went to swap (at least half of it: the kernel also drops
# caches).
over_kb=$((mb * 1024 - free_kb))
[ $((used * 2)) -ge $over_kb ] || { fail $name "only ${used} kB went to swap, $over_kb kB over free memory"; exit 0; }
[ "${orig:-0}" -gt 0 ] || { fail $name "mm_stat orig_data_size is ${orig:-missing}"; exit 0; }
swapoff $dev || { fail $name "swapoff failed"; exit 0; }
call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice after swapoff failed"; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
if [ -n "$used_mem" ] && [ "$used_mem" -gt 0 ]; then
  echo "guest: swap ratio $(awk -v o=$orig -v u=$used_mem 'BEGIN {printf "%.2f", o / u}')"
fi
pass $name
