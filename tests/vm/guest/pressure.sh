#!/bin/sh
# VM test: swap under the kernel's default settings, side by side. The same load (real process
# pages from the corpus, /dev/vda, 2.5 x MemAvailable unless trueno.fill=PERCENT says otherwise)
# runs first on kernel zram (lz4), then on trueno-zram (lz4) in the same guest; nothing sets a
# sysctl (trueno.pc=N sets vm.page-cluster, trueno.wsf=N vm.watermark_scale_factor, for
# experiments only). Each run: fill, one more pass over every page, verify every page. Prints
# for each: pass or fail, the time of each phase, peak mem_used_total, the ratio, write errors,
# OOM kills. PASS when trueno-zram's run passes: every page verified, no OOM kill, no write
# error, no hang. (trueno.only=kernel or trueno.only=trueno runs one of them.)
. /tests/common.sh
name=pressure
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
arg() { sed -n "s/.*trueno\.$1=\([A-Za-z0-9]*\).*/\1/p" /proc/cmdline; }
[ -n "$(arg pc)" ] && echo "$(arg pc)" >/proc/sys/vm/page-cluster
[ -n "$(arg wsf)" ] && echo "$(arg wsf)" >/proc/sys/vm/watermark_scale_factor
fill=$(arg fill)
fill=${fill:-250}
only=$(arg only)
echo "guest: vm.watermark_scale_factor $(cat /proc/sys/vm/watermark_scale_factor), vm.page-cluster $(cat /proc/sys/vm/page-cluster), vm.swappiness $(cat /proc/sys/vm/swappiness), min_free_kbytes $(cat /proc/sys/vm/min_free_kbytes)"
disk=$((1536 << 20))

# mm_stat of the device under test: kernel zram's sysfs or our attribute. Read at the end only:
# its mem_used_max is the peak. (A sampler that asked trueno-zramd every 0.5 s started a
# varlink-call each time, a C++ process beside the load that kernel zram's cat is not.)
mm_stat_of() { # system
  if [ $1 = kernel ]; then cat /sys/block/zram0/mm_stat; else attr $id mm_stat; fi
}

run() { # system
  sys=$1
  dmesg -c >/dev/null
  if [ $sys = kernel ]; then
    echo 1 >/sys/block/zram0/reset 2>/dev/null
    echo lz4 >/sys/block/zram0/comp_algorithm && echo $disk >/sys/block/zram0/disksize || { echo "guest: kernel zram set-up failed"; return 1; }
    dev=/dev/zram0
  else
    start_daemon || return 1
    # The daemon's own memory, idle with one 1 GiB device (the issue's yardstick: the kernel's
    # per-device metadata plus 8 MB); the store's segments are listed apart.
    id=$(create $((1 << 30)) lz4) || return 1
    sleep 2
    echo "guest: daemon idle, one 1 GiB device: $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem)' /proc/$DAEMON/status | tr -s ' \t' ' ' | tr '\n' ' ')"
    echo "guest:   by kind (kB): $(rss_breakdown $DAEMON)"
    rss_top $DAEMON 14 | sed 's/^/guest:   rss kB /'
    call RemoveDevice "{\"id\": $id}" >/dev/null
    id=$(create $disk lz4) || return 1
    dev=/dev/ublkb$id
    wait_for_node $dev || return 1
    echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
  fi
  mkswap $dev >/dev/null && swap_on $dev || { echo "guest: swap_on $dev failed"; return 1; }
  drop_caches
  free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
  mb=$((free_kb * fill / 100 / 1024))
  echo "guest: $sys: MemAvailable $free_kb kB, load $mb MB of corpus pages"
  # trueno.trace=1: mm_stat and swap-ins every second, for tests/bench/plot-swap-run
  # (tests/vm/swaptrace --from-log takes the trace out of the console log).
  src=/sys/block/zram0/mm_stat; [ $sys = trueno ] && src=$id
  tracer=; grep -q 'trueno\.trace=1' /proc/cmdline && { /tests/trace.sh $src & tracer=$!; }
  throttled0=$(awk '$1 == "pgscan_direct_throttle" {print $2}' /proc/vmstat)
  cpu0=$(cpu_ticks)
  kswapd=$(pid_of_comm kswapd0)
  kswapd0=$(process_ticks $kswapd) shell0=$(process_ticks $$)
  [ $sys = trueno ] && threads0=$(thread_ticks $DAEMON)
  t0=$(date +%s)
  swappable page-verify --passes 1 --corpus /dev/vda $mb >/tmp/pv.log 2>&1 &
  pv=$!
  wait_logged $pv /tmp/pv.log
  rc=$?
  took=$(($(date +%s) - t0))
  cpu1=$(cpu_ticks)
  kswapd1=$(process_ticks $kswapd) shell1=$(process_ticks $$)
  [ $sys = trueno ] && threads1=$(thread_ticks $DAEMON)
  [ -n "$tracer" ] && kill $tracer
  # Direct reclaimers the kernel made wait for kswapd (throttle_direct_reclaim): the load's,
  # and the refill thread's (up to a second each, unless a write interrupts it).
  throttled=$(($(awk '$1 == "pgscan_direct_throttle" {print $2}' /proc/vmstat) - throttled0))
  stat=$(mm_stat_of $sys | tr -s ' ' | sed 's/^ //')
  oom=$(dmesg | grep -c 'Killed process')
  werr=$(dmesg | grep -c -E 'critical space allocation error|Write-error on swap-device')
  rerr=$(dmesg | grep -c -E 'Read-error on swap-device|op 0x0:\(READ\)')
  phases=$(sed -n 's/page-verify: PHASES //p' /tmp/pv.log)
  peak=$(echo "$stat" | awk '{print $5}') # mem_used_max
  verdict=pass
  [ $rc = 0 ] && [ $oom = 0 ] && [ $werr = 0 ] && [ $rerr = 0 ] || verdict=fail
  echo "guest: RESULT $sys $verdict: ${took} s ($phases), peak mem_used_total $((${peak:-0} >> 20)) MiB, mm_stat $stat, write errors $werr, OOM kills $oom, reclaim throttled $throttled time(s)"
  # Where the time went: busy CPUs (the load's own work, compression, reclaim) or idle ones
  # (waits); for trueno-zram, the daemon's threads' CPU time (ticks of 10 ms, before and after).
  echo "guest:   cpu: $(cpu_spent "$cpu0" "$cpu1")"
  echo "guest:   ticks (10 ms, user+system) kswapd0 $kswapd0 -> $kswapd1; the load (this shell's children) ${shell0#* } -> ${shell1#* }"
  [ $sys = trueno ] && echo "guest:   daemon threads (10 ms ticks) before: $threads0" && echo "guest:   after: $threads1"
  grep -E 'corrupted|VERIFIED|ACCESS' /tmp/pv.log | head -4 | sed 's/^/guest:   /'
  [ $rc = 0 ] || { echo "guest:   the load exited with $rc; its last lines:"; tail -3 /tmp/pv.log | sed 's/^/guest:   /'; }
  [ $rerr = 0 ] || { echo "guest:   $rerr lines of read errors:"; dmesg | grep -m2 -E 'Read-error|op 0x0:\(READ\)' | sed 's/^/guest:   /'; }
  if [ $oom != 0 ]; then
    oom_report
  fi
  [ $werr = 0 ] || dmesg | grep -m2 -E 'critical space|Write-error' | sed 's/^/guest:   /'
  if [ $sys = trueno ]; then
    # The load is gone (its swap freed, as far as the kernel discards it): the store compacts
    # on its own once writes are quiet (AutoCompaction: 10 s without a reserve miss).
    sleep 15
    echo "guest: 15 s after the load: mm_stat $(mm_stat_of $sys | tr -s ' ' | sed 's/^ //'); compacted on its own $(grep -c 'compacted on its own' /tmp/zramd.log) time(s)"
  fi
  swapoff $dev 2>/dev/null
  if [ $sys = kernel ]; then
    echo 1 >/sys/block/zram0/reset
  else
    echo "guest: daemon $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem|VmLck)' /proc/$DAEMON/status | tr -s ' \t' ' ' | tr '\n' ' ')"
    rss_top $DAEMON 10 | sed 's/^/guest:   after the load, rss kB /'
    echo "guest: debug_stat $(attr $id debug_stat | sed 's/\\n/ /g')"
    grep 'found no populated memory' /tmp/zramd.log | head -6 | sed 's/^/guest:   /'
    grep -E 'waited for the refiller while|failed \(ENOSPC\) after waiting' /tmp/zramd.log | head -12 | sed 's/^/guest:   /'
    grep -E ' (error|critical): ' /tmp/zramd.log | head -8 | sed 's/^/guest:   /'
    echo "guest: io_stat $(attr $id io_stat)"
    call RemoveDevice "{\"id\": $id}" >/dev/null
    stop_daemon
    grep -o 'queue [0-9]*: time in the daemon: .*' /tmp/zramd.log | sed 's/^/guest:   /'
  fi
  [ $verdict = pass ]
}

kernel_ok=skipped
if [ "$only" != trueno ]; then
  run kernel && kernel_ok=pass || kernel_ok=fail
fi
[ "$only" = kernel ] && { echo "guest: kernel zram $kernel_ok"; pass $name; exit 0; }
if run trueno; then
  pass $name
else
  fail $name "trueno-zram failed the load (kernel zram: $kernel_ok); see the RESULT lines"
fi
