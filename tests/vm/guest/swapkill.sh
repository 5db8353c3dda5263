#!/bin/sh
# VM test: swap survives its daemon, at the kernel's default vm settings. A device is swap for a
# load of real process pages (the corpus, /dev/vda) well beyond free memory; at the load's peak
# trueno-zramd is killed with SIGKILL while more memory is asked for, and its standby takes the
# device over. Every page of both loads must verify, the device must still be the same swap
# device, and mm_stat/io_stat must go on from where they were.
# trueno.standby=0: no standby; the daemon stays dead for a few seconds (trueno.dead=N) and the
# same command line is started again by hand (at the default watermarks this can hang: README,
# Known limits). trueno.wsf=N sets vm.watermark_scale_factor (experiments).
. /tests/common.sh
name=swap-kill
wsf=$(sed -n 's/.*trueno\.wsf=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$wsf" ] && echo $wsf >/proc/sys/vm/watermark_scale_factor
with_standby=$(sed -n 's/.*trueno\.standby=\([01]\).*/\1/p' /proc/cmdline)
with_standby=${with_standby:-1}
echo "guest: vm.watermark_scale_factor $(cat /proc/sys/vm/watermark_scale_factor), standby $with_standby"
dead=$(sed -n 's/.*trueno\.dead=\([0-9]*\).*/\1/p' /proc/cmdline)
dead=${dead:-4}
more_arg=$(sed -n 's/.*trueno\.more=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
if [ $with_standby = 1 ]; then
  start_daemon || { fail $name "daemon start"; exit 0; }
else
  start_daemon --standby false || { fail $name "daemon start"; exit 0; }
fi
id=$(create 805306368 lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
mkswap $dev >/dev/null || { fail $name "mkswap failed"; exit 0; }
swap_on $dev || { fail $name "swapon failed"; exit 0; }
devt=$(cat /sys/block/ublkb$id/dev)

free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
mb=$((free_kb * 2 / 1024))
echo "guest: MemAvailable ${free_kb} kB, filling $mb MB of corpus pages"
rm -f /tmp/go /tmp/go2
swappable page-verify --touch --corpus /dev/vda $mb /tmp/go >/tmp/pv.log 2>&1 &
pv=$!
i=0
while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q FILLED /tmp/pv.log || { fail $name "page-verify did not fill ($(cat /tmp/pv.log))"; tail -20 /tmp/zramd.log; exit 0; }
sleep 2 # the load touching its pages: swap in and out at full speed
used=$(awk -v d=$dev '$1 == d {print $4}' /proc/swaps)
mm_before=$(attr $id mm_stat | tr -s ' ' | sed 's/^ //')
io_before=$(attr $id io_stat | tr -s ' ' | sed 's/^ //')
echo "guest: at the peak: swap used ${used} kB; mm_stat $mm_before; io_stat $io_before"
[ "${used:-0}" -gt $((free_kb / 2)) ] || { fail $name "only ${used:-0} kB in swap at the peak: not a swap load"; exit 0; }

# Free memory, writeback and the daemon's RSS four times a second from here on (printed at the
# end, and by the hang watch): where the memory a restart needs goes.
/tests/memtrace.sh /tmp/memtrace &
tracer=$!
sleep 1
if [ $with_standby = 1 ]; then
  wait_standby 1 || { fail $name "no standby was ready"; exit 0; }
  heir=$STANDBY
  echo "guest: the standby's memory (kB): $(rss_breakdown $heir); VmLck $(awk '/VmLck/ {print $2}' /proc/$heir/status)"
fi
echo "# killed" >>/tmp/memtrace
# With a standby, it takes the device over while the load below asks for more.
kill -KILL $DAEMON
wait $DAEMON 2>/dev/null
DAEMON=
# Half of what is free now (trueno.more=MB overrides): the pressure goes on, and the machine
# keeps the memory a restart needs. While the only swap has no server, any allocation that must
# reclaim writes some page to the dead device and waits there for good, the fork that restarts
# the daemon included: so from the kill to the restart this shell forks nothing but the load
# (builtins only). At the kernel's default watermarks about 15 MB are free at the kill, and the
# kernel's watermark boost had raised the min watermark to 7 MB: asking for half, or even a
# quarter, left the restart waiting in reclaim for the dead device (README, "Known limits").
free_now=
while read -r key value _; do [ "$key" = MemFree: ] && free_now=$value; done </proc/meminfo
if [ -n "$more_arg" ]; then more=$more_arg; else more=$((free_now / 2 / 1024)); fi
[ $more -ge 8 ] || [ -n "$more_arg" ] || more=8
echo "guest: daemon killed; $more MB more asked for while it is dead (${dead} s; ${free_now} kB free)"
swappable page-verify --corpus /dev/vda $more /tmp/go2 >/tmp/pv2.log 2>&1 &
pv2=$!
if [ $with_standby = 1 ]; then
  i=0
  while [ $i -lt 600 ]; do
    count_ready
    [ $READY_COUNT -ge 2 ] && break
    pause 0.1
    i=$((i + 1))
  done
  [ $READY_COUNT -ge 2 ] || { fail $name "the standby (pid $heir) did not take over within 60 s: $(tail -5 /tmp/zramd.log)"; exit 0; }
  DAEMON=$heir
  echo "# serving" >>/tmp/memtrace
  pause $dead
  is_swap $dev || { fail $name "$dev left /proc/swaps"; exit 0; }
  kill -0 $pv 2>/dev/null || { fail $name "the load died after the kill: $(tail -3 /tmp/pv.log)"; exit 0; }
  echo "guest: $(grep 'takes over its devices' /tmp/zramd.log | tail -1 | sed 's/.*warning: //')"
  echo "guest: $(grep "take-over allocated" /tmp/zramd.log | tail -1 | sed "s/.*info: //")"
  echo "guest: $(grep "allocated .* kB attaching" /tmp/zramd.log | tail -1 | sed "s/.*info: //")"
  echo "guest: the new daemon's memory (kB): $(rss_breakdown $heir)"
  rss_top $heir 14 | sed 's/^/guest:   /'
else
  pause $dead
  is_swap $dev || { fail $name "$dev left /proc/swaps while the daemon was dead"; exit 0; }
  kill -0 $pv 2>/dev/null || { fail $name "the load died while the daemon was dead: $(tail -3 /tmp/pv.log)"; exit 0; }
  echo "# restarted" >>/tmp/memtrace
  start_daemon --standby false || { fail $name "the daemon did not start again"; exit 0; }
  echo "# serving" >>/tmp/memtrace
fi
echo "guest: $(grep 'serving again' /tmp/zramd.log | tail -1 | sed 's/.*info: //')"
i=0
while ! grep -q FILLED /tmp/pv2.log && kill -0 $pv2 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
touch /tmp/go /tmp/go2
wait $pv
rc=$?
wait $pv2
rc2=$?
kill $tracer 2>/dev/null
echo "guest: memory from the kill on (quarter seconds: MemFree kB, Writeback kB, daemon RssAnon kB):"
tr '\n' ' ' </tmp/memtrace | fold -w 160 | head -40 | sed 's/^/guest:   /'
echo
cat /tmp/pv.log | grep -E 'TOUCHED|VERIFIED|corrupted'
cat /tmp/pv2.log | grep -E 'VERIFIED|corrupted'
if dmesg | grep -q 'Killed process'; then
  oom_report
  fail $name "the OOM killer ran: $(dmesg | grep -m1 -o 'Killed process.*')"
  exit 0
fi
[ $rc = 0 ] || { fail $name "pages of the load lost or corrupted"; exit 0; }
[ $rc2 = 0 ] || { fail $name "pages of the second load lost or corrupted"; exit 0; }
[ "$(cat /sys/block/ublkb$id/dev)" = "$devt" ] || { fail $name "the device changed"; exit 0; }
grep -q "^$dev " /proc/swaps || { fail $name "$dev is no longer swap"; exit 0; }
mm_after=$(attr $id mm_stat | tr -s ' ' | sed 's/^ //')
io_after=$(attr $id io_stat | tr -s ' ' | sed 's/^ //')
echo "guest: after: mm_stat $mm_after; io_stat $io_after"
# Statistics go on: discards and the peak only grow; nothing failed.
nf_before=$(echo "$io_before" | cut -d' ' -f4)
nf_after=$(echo "$io_after" | cut -d' ' -f4)
[ "$nf_after" -ge "$nf_before" ] || { fail $name "io_stat notify_free went back: $io_before -> $io_after"; exit 0; }
max_before=$(echo "$mm_before" | cut -d' ' -f5)
max_after=$(echo "$mm_after" | cut -d' ' -f5)
[ "$max_after" -ge "$max_before" ] || { fail $name "mm_stat mem_used_max went back: $mm_before -> $mm_after"; exit 0; }
[ "$(echo "$io_after" | cut -d' ' -f1)" = 0 ] || { fail $name "failed reads: $io_after"; exit 0; }
dmesg | grep -q 'I/O error, dev ublkb' && { fail $name "the kernel saw I/O errors: $(dmesg | grep -m1 'I/O error')"; exit 0; }
swapoff $dev || { fail $name "swapoff failed"; exit 0; }
call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice after swapoff failed"; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
