#!/bin/sh
# VM test: trueno-zramd killed (SIGKILL) over and over while its device is swap under a load of
# real pages: during heavy swap-out, during a compaction, during recompression passes that make
# multi-page and deduplicated objects and train dictionaries, then 20 times at random moments.
# Each time the daemon's standby takes the device over (and the new daemon starts a standby of
# its own, waited for before the next kill). At the end every page of the load must verify,
# with no I/O error and no OOM kill. At the kernel's default vm settings.
# trueno.standby=0: no standby; each time the same command line is started again by hand.
# trueno.wsf=N sets vm.watermark_scale_factor (experiments).
. /tests/common.sh
name=kill-loop
wsf=$(sed -n 's/.*trueno\.wsf=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$wsf" ] && echo $wsf >/proc/sys/vm/watermark_scale_factor
with_standby=$(sed -n 's/.*trueno\.standby=\([01]\).*/\1/p' /proc/cmdline)
with_standby=${with_standby:-1}
echo "guest: vm.watermark_scale_factor $(cat /proc/sys/vm/watermark_scale_factor), standby $with_standby"
standby_arg=
[ $with_standby = 1 ] || standby_arg="--standby false"
kills=$(sed -n 's/.*trueno\.kills=\([0-9]*\).*/\1/p' /proc/cmdline)
kills=${kills:-20}
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
set_attr() { call SetAttribute "{\"id\": $id, \"name\": \"$1\", \"value\": \"$2\"}" >/dev/null; }
standbys=1
restart() { # why: SIGKILL; the standby takes over (or: a moment dead, the same command line again)
  total=$((total + 1))
  if [ $with_standby = 1 ]; then
    wait_standby $standbys || { fail $name "no standby before kill $total ($1)"; exit 0; }
    kill_to_standby || { fail $name "the standby did not take over after kill $total ($1)"; exit 0; }
    standbys=$((standbys + 1))
  else
    kill -KILL $DAEMON
    wait $DAEMON 2>/dev/null
    DAEMON=
    pause 0.$((RANDOM % 10))
    start_daemon $standby_arg || { fail $name "the daemon did not start again after kill $total ($1)"; exit 0; }
  fi
  grep -q "^$dev " /proc/swaps || { fail $name "$dev is no longer swap after kill $total ($1)"; exit 0; }
  kill -0 $pv 2>/dev/null || { fail $name "the load died after kill $total ($1): $(tail -3 /tmp/pv.log)"; exit 0; }
}
total=0

start_daemon $standby_arg || { fail $name "daemon start"; exit 0; }
# The device: a quarter more than the load (below). The kernel tells a ublk device of freed swap
# slots only by discarding whole swap clusters (2 MiB), and Linux 6.12 takes free clusters before
# reusing the holes in partly used ones, so under this load's random rewrites the store keeps
# slots the kernel freed until the device has been used end to end: a device twice the RAM
# held 650 MB for 420 MB in swap and ran the guest out of memory (README, Known limits).
size_mb=$(($(awk '/MemAvailable/ {print $2}' /proc/meminfo) * 3 / 2 * 5 / 4 / 1024))
id=$(create $((size_mb << 20)) lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
mkswap $dev >/dev/null && swap_on $dev || { fail $name "swapon failed"; exit 0; }
free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
# 1.5 x the free memory: well into swap, with room for 20-odd restarts; the heaviest loads are
# the swap and swap-kill tests' job.
mb=$((free_kb * 3 / 2 / 1024))
rm -f /tmp/go
swappable page-verify --touch --corpus /dev/vda $mb /tmp/go >/tmp/pv.log 2>&1 &
pv=$!

# 1. Heavy swap-out: while the fill pushes pages into swap (64 MB in, and growing).
i=0
swapped() { awk -v d=$dev '$1 == d {print $4}' /proc/swaps; }
while [ "$(swapped)" -lt 65536 ] && ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q FILLED /tmp/pv.log && { fail $name "the fill ended before 64 MB went to swap"; exit 0; }
restart "during the fill"
echo "guest: killed during the fill; swap $(awk -v d=$dev '$1 == d {print $4}' /proc/swaps) kB"
i=0
while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q FILLED /tmp/pv.log || { fail $name "page-verify did not fill ($(cat /tmp/pv.log))"; exit 0; }

# 2. Compaction: killed while a compact call runs.
set_attr compact 1 &
sleep 0.0$((RANDOM % 10))
restart "during a compaction"

# 3. Recompression passes with multi-page objects, dedup and a trained dictionary, back to back:
# killed once the passes have made groups, while the next ones run.
set_attr recompress_policy "strong age=0 interval=1 rate=0 cpu=100" || { fail $name "recompress_policy refused"; exit 0; }
i=0
groups() { attr $id object_stat | awk '{print $2}'; }
while [ "$(groups)" = 0 ] && [ $i -lt 240 ]; do sleep 1; i=$((i + 1)); done
[ "$(groups)" != 0 ] || { fail $name "recompression made no multi-page objects in 240 s: $(attr $id recompress_policy)"; exit 0; }
echo "guest: passes made $(groups) multi-page objects after $i s: $(attr $id recompress_policy | tail -1 | cut -c1-160)"
sleep 0.$((RANDOM % 10))
restart "during a recompression pass"
attr $id recompress_policy | grep -q '^strong' || { fail $name "the policy did not come back after the restart: $(attr $id recompress_policy)"; exit 0; }
sleep 2
restart "during a recompression pass"

# 4. At random moments.
n=0
while [ $n -lt $kills ]; do
  sleep $((RANDOM % 3)).$((RANDOM % 10))
  restart "at random, $n"
  n=$((n + 1))
done
echo "guest: $total kills; object_stat $(attr $id object_stat); mm_stat $(attr $id mm_stat | tr -s ' ')"
stale_report() { # when: swap in use against the store's pages; the difference is freed slots not yet discarded
  echo "guest: $1: device $size_mb MB, swap in use $(($(swapped) / 1024)) MB, the store holds $(($(mm_field $id 1) >> 20)) MB of pages"
}
stale_report "after the kills"
echo "guest: restart times: $(grep -o 'serving again after [0-9.]* s' /tmp/zramd.log | awk '{print $4}' | tr '\n' ' ')"
echo "guest: what each take-over allocated (kB, RssAnon growth): $(grep -o 'the take-over allocated [0-9]* kB' /tmp/zramd.log | awk '{print $4}' | tr '\n' ' ')"
echo "guest: of it, attaching the store / starting its queues (kB): $(grep -o 'allocated [0-9]* kB attaching, [0-9]* kB serving' /tmp/zramd.log | awk '{print $2 "/" $5}' | tr '\n' ' ')"
echo "guest: the store's bookkeeping at each take-over (kB): $(grep -o "the store's bookkeeping [0-9]* kB" /tmp/zramd.log | awk '{print $4}' | tr '\n' ' ')"
echo "guest: queues served on threads and rings made ahead, at each take-over: $(grep -o '[0-9]* queue(s) on threads and rings made ahead' /tmp/zramd.log | awk '{print $1}' | tr '\n' ' ')"
echo "guest: store pages mapped at each take-over before serving: $(grep -o '[0-9]* resident pages mapped before serving[^;]*' /tmp/zramd.log | awk '{print $1}' | tr '\n' ' ')"
grep -q 'resident pages mapped before serving (' /tmp/zramd.log &&
  echo "guest: some could not be mapped: $(grep -m1 -o '[0-9]* resident pages mapped before serving ([^)]*)' /tmp/zramd.log)"
set_attr recompress_policy off
touch /tmp/go
wait_logged $pv /tmp/pv.log
rc=$?
grep -E 'TOUCHED|VERIFIED|corrupted' /tmp/pv.log
stale_report "after the verify"
if dmesg | grep -q 'Killed process'; then
  oom_report
  fail $name "the OOM killer ran: $(dmesg | grep -m1 -o 'Killed process.*')"
  exit 0
fi
[ $rc = 0 ] || { fail $name "pages lost or corrupted after $total kills"; exit 0; }
dmesg | grep -q 'I/O error, dev ublkb' && { fail $name "the kernel saw I/O errors: $(dmesg | grep -m1 'I/O error')"; exit 0; }
io=$(attr $id io_stat | tr -s ' ' | sed 's/^ //')
[ "$(echo "$io" | cut -d' ' -f1)" = 0 ] || { fail $name "failed reads: $io"; exit 0; }
grep -q 'unusable' /tmp/zramd.log && { fail $name "pages were found damaged: $(grep -m1 unusable /tmp/zramd.log)"; exit 0; }
swapoff $dev || { fail $name "swapoff failed"; exit 0; }
call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice after swapoff failed"; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
