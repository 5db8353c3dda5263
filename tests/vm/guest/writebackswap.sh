#!/bin/sh
# VM test: a swap load larger than RAM plus what the compressed store may hold (its mem_limit),
# at the kernel's default vm settings. Real process pages (the corpus disk, /dev/vda) on a
# device with a 32 MiB mem_limit:
#   1. with a backing device (a virtio disk, /dev/vdb) and the writeback policy on, room on
#      demand writes the coldest pages back as the device nears its limit: the load completes,
#      every page verified, with no write error, no OOM kill, and the store under its limit;
#   2. on request, without one (trueno.nobacking=1), and on kernel zram with the same limit
#      (trueno.kernel=1, run first): writes past the limit fail and the kernel keeps those
#      pages and retries them; it does not OOM-kill for them, so the test kills the load
#      trueno.deadline=S seconds (default 60) after the first write error and checks that no
#      page came back wrong, the daemon serves on and swapoff succeeds.
. /tests/common.sh
name=writeback-swap
corpus=/dev/vda
disk=/dev/vdb
limit=$((32 << 20))
[ -b $corpus ] && [ -b $disk ] || { fail $name "no corpus disk ($corpus) or backing disk ($disk)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
field() { echo "$1" | tr -s ' ' | sed 's/^ //' | cut -d' ' -f$2; }
echo "guest: vm.watermark_scale_factor $(cat /proc/sys/vm/watermark_scale_factor), vm.page-cluster $(cat /proc/sys/vm/page-cluster)"

start_daemon || { fail $name "daemon start"; exit 0; }

# await_load PID DEADLINE: waits for the load; with DEADLINE (seconds) it is killed that long
# after the first failed swap write (the kernel retries such writes, it does not OOM-kill for
# them). Sets rc and stalled (1 if the test killed it); returns 1 if it would not die.
await_load() {
  stalled=0
  first=
  while alive $1; do
    sleep 2
    [ "$2" = 0 ] && continue
    if [ -z "$first" ] && dmesg | grep -q -E 'critical space allocation error|Write-error on swap-device'; then
      first=$(date +%s)
    fi
    if [ -n "$first" ] && [ $(($(date +%s) - first)) -ge $2 ]; then
      stalled=1
      kill -KILL $1
      i=0
      while alive $1 && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
      alive $1 && return 1
      break
    fi
  done
  wait $1
  rc=$?
}

# load SYSTEM BACKING DEADLINE: one run on a new device (SYSTEM trueno or kernel; BACKING a
# disk or "none"); DEADLINE as await_load's (0: none). Sets rc, stalled, oom, werr, rerr, bad,
# stat, bd and took.
load() {
  sys=$1
  dmesg -c >/dev/null
  if [ $sys = kernel ]; then
    echo 1 >/sys/block/zram0/reset 2>/dev/null
    echo lz4 >/sys/block/zram0/comp_algorithm && echo $limit >/sys/block/zram0/mem_limit &&
      echo $((1 << 30)) >/sys/block/zram0/disksize || { echo "guest: kernel zram set-up failed"; return 1; }
    dev=/dev/zram0
  else
    out=$(call CreateDevice "{\"size\": $((1 << 30)), \"algorithm\": \"lz4\", \"mem_limit\": $limit}") ||
      { echo "guest: CreateDevice failed: $out"; return 1; }
    id=$(echo "$out" | sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p')
    dev=/dev/ublkb$id
    wait_for_node $dev || { echo "guest: $dev did not appear"; return 1; }
    echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
    if [ $2 != none ]; then
      setattr $id backing_dev $2 >/dev/null || { echo "guest: backing_dev $2 refused"; return 1; }
      # Room on demand only: pages a day old would be the timer's, and none is.
      setattr $id writeback_policy "on age=1d budget=0 used=0" >/dev/null || { echo "guest: writeback_policy refused"; return 1; }
    fi
  fi
  mkswap $dev >/dev/null && swap_on $dev || { echo "guest: swap_on $dev failed"; return 1; }
  drop_caches
  free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
  # What fits without a backing device: MemAvailable less the store's RAM, plus what the store
  # holds (about 3 pages per page of its memory on this corpus). Four limits' worth of pages
  # more than MemAvailable is well past that.
  mb=$((free_kb / 1024 + 4 * (limit >> 20)))
  what="$sys, backing $2"
  echo "guest: $what: MemAvailable $free_kb kB, load $mb MB of corpus pages, mem_limit $((limit >> 20)) MiB"
  t0=$(date +%s)
  swappable page-verify --passes 1 --corpus $corpus $mb >/tmp/pv.log 2>&1 &
  pv=$!
  await_load $pv $3 || { echo "guest: $what: the load did not die on SIGKILL within 60 s"; return 1; }
  took=$(($(date +%s) - t0))
  if [ $sys = kernel ]; then stat=$(cat /sys/block/zram0/mm_stat); bd=; else stat=$(attr $id mm_stat); bd=$(attr $id bd_stat); fi
  stat=$(echo "$stat" | tr -s ' ' | sed 's/^ //')
  bd=$(echo "$bd" | tr -s ' ' | sed 's/^ //')
  oom=$(dmesg | grep -c 'Killed process [0-9]* (page-verify)')
  werr=$(dmesg | grep -c -E 'critical space allocation error|Write-error on swap-device')
  rerr=$(dmesg | grep -c -E 'Read-error on swap-device|op 0x0:\(READ\)')
  bad=$(grep -c 'corrupted' /tmp/pv.log)
  echo "guest: $what: page-verify exit $rc after $took s ($(sed -n 's/page-verify: PHASES //p' /tmp/pv.log))$([ $stalled = 1 ] && echo ", killed by the test $3 s after the first write error"); mm_stat $stat; bd_stat ${bd:-none}; write errors $werr (lines, rate-limited), read errors $rerr, OOM kills $oom, corrupted $bad"
  grep -E 'VERIFIED' /tmp/pv.log | sed 's/^/guest:   /'
  [ $oom = 0 ] || oom_report
  [ $werr = 0 ] || dmesg | grep -m2 -E 'critical space|Write-error' | sed 's/^/guest:   /'
  swapoff $dev || { echo "guest: swapoff $dev failed"; return 1; }
  if [ $sys = kernel ]; then
    echo 1 >/sys/block/zram0/reset
  else
    call RemoveDevice "{\"id\": $id}" >/dev/null || { echo "guest: RemoveDevice failed"; return 1; }
  fi
}

# check_clean: the run without a backing device ended without harm: no page came back wrong,
# the daemon serves on, the store stayed under its limit (after load()).
check_clean() {
  [ $bad = 0 ] && [ $rerr = 0 ] || { fail $name "$what: $bad pages came back corrupted and $rerr reads failed"; exit 0; }
  if [ $rc = 0 ]; then
    # Said, not failed: the kernel may keep more than MemAvailable said.
    echo "guest: $what: the load of $mb MB got through"
  elif [ $stalled = 1 ]; then
    # The kill is sent when this shell runs again: it stalls in reclaim too.
    echo "guest: $what: the kernel retried the writes the device refused at its limit ($werr lines of errors); the load was still there $deadline s or more after the first error ($took s in all, OOM kills $oom), then killed; the machine recovered"
  else
    [ $oom -gt 0 ] || [ $werr -gt 0 ] || { fail $name "$what: the load failed (exit $rc) with no OOM kill and no write error"; exit 0; }
    echo "guest: $what: the load failed cleanly: exit $rc, $werr write errors, $oom OOM kill(s), no page wrong"
  fi
}

load trueno $disk 0 || { tail -20 /tmp/zramd.log; fail $name "set-up with a backing device failed"; exit 0; }
passes=$(grep -c 'of its mem_limit: .* written back' /tmp/zramd.log)
grep 'of its mem_limit' /tmp/zramd.log | sed -n '1p;$p' | sed 's/^/guest:   zramd: /'
# Writes that reached the limit while a pass made room waited (parked), as the log says every
# status period: how many, and how many failed after --reserve-wait.
parked=$(sed -n 's/.*: \([0-9]*\) write(s) found no memory ready.*; \([0-9]*\) failed after.*/\1 \2/p' /tmp/zramd.log |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
echo "guest: room passes $passes; writes that waited ${parked% *}, failed after their wait ${parked#* }"
[ $rc = 0 ] || { fail $name "with a backing device the load failed (exit $rc, OOM kills $oom, corrupted $bad)"; exit 0; }
[ $werr = 0 ] && [ $rerr = 0 ] || { fail $name "with a backing device: $werr write and $rerr read errors in dmesg"; exit 0; }
[ "$passes" -gt 0 ] || { fail $name "the load completed without room on demand: it was not larger than the store"; exit 0; }
[ "$(field "$bd" 3)" -gt 0 ] && [ "$(field "$bd" 2)" -gt 0 ] ||
  { fail $name "bd_stat $bd: no writes to or reads from the backing device"; exit 0; }
[ "$(field "$stat" 5)" -le $limit ] || { fail $name "mem_used_max $(field "$stat" 5) over mem_limit $limit"; exit 0; }

deadline=$(sed -n 's/.*trueno\.deadline=\([0-9]*\).*/\1/p' /proc/cmdline)
deadline=${deadline:-60}
# trueno.kernel=1: kernel zram with the same mem_limit and no backing device runs the same load
# first, in the same guest, for comparison.
if grep -q 'trueno\.kernel=1' /proc/cmdline; then
  load kernel none $deadline || { fail $name "the kernel zram run failed to run"; exit 0; }
  check_clean
fi
# trueno.nobacking=1: the same load without a backing device. On request only: at the kernel's
# default settings the kernel retries the writes refused at the limit and the guest stalls in
# reclaim, this shell's forks included (the README, "Writeback to a backing device").
if grep -q 'trueno\.nobacking=1' /proc/cmdline; then
  load trueno none $deadline || { tail -20 /tmp/zramd.log; fail $name "the run without a backing device failed"; exit 0; }
  alive $DAEMON || { fail $name "the daemon died in the load without a backing device"; exit 0; }
  [ "$(field "$stat" 5)" -le $limit ] || { fail $name "without a backing device: mem_used_max $(field "$stat" 5) over mem_limit $limit"; exit 0; }
  check_clean
fi
# The daemon still serves: a device written and read back.
id=$(create $((16 << 20)) lz4) || { fail $name "CreateDevice after the loads failed"; exit 0; }
wait_for_node /dev/ublkb$id || { fail $name "/dev/ublkb$id did not appear"; exit 0; }
head -c 8388608 $corpus >/tmp/small
dd if=/tmp/small of=/dev/ublkb$id bs=1M conv=fsync 2>/dev/null && drop_caches &&
  head -c 8388608 /dev/ublkb$id | cmp -s - /tmp/small || { fail $name "a new device did not read back what was written"; exit 0; }
call RemoveDevice "{\"id\": $id}" >/dev/null
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
