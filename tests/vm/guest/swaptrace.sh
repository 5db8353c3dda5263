#!/bin/sh
# VM measurement: one swap run over time, for doc/plots/swap-run.svg (tests/vm/swaptrace boots
# it and turns the console into a CSV; tests/bench/plot-swap-run draws it). trueno-zramd with
# one swap device under a load of real process pages (the corpus disk, /dev/vda), the device's
# mm_stat and pswpin traced every second (trace.sh), at the kernel's default vm settings.
# Phases, each marked "guest: phase UPTIME NAME":
#   fill   page-verify writes trueno.fill=PERCENT (default 200) of MemAvailable of corpus pages;
#   idle   the load sleeps for trueno.hold=SECONDS (default 60) with its pages in swap;
#   read   it reads every page once, in order (swap-ins);
#   verify it checks every page;
#   end    the load has exited.
# trueno.alg=NAME: the device's algorithm (default lz4). trueno.policy=POLICY[,key=value...]:
# the device's recompress_policy from the start, commas for spaces (e.g.
# balanced,age=30,interval=10: idle recompression on the run's time scale); default off.
# PASS when every page verified, with no OOM kill and no swap I/O error.
. /tests/common.sh
name=swaptrace
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
arg() { sed -n "s/.*trueno\.$1=\([A-Za-z0-9,=_-]*\).*/\1/p" /proc/cmdline; }
fill=$(arg fill)
fill=${fill:-200}
hold=$(arg hold)
hold=${hold:-60}
alg=$(arg alg)
alg=${alg:-lz4}
policy=$(arg policy | tr ',' ' ')
set_attr() { call SetAttribute "{\"id\": $id, \"name\": \"$1\", \"value\": \"$2\"}" >/dev/null; }
phase() { read -r up _ </proc/uptime; echo "guest: phase $up $1"; }

start_daemon || { fail $name "daemon start"; exit 0; }
id=$(create $((1536 << 20)) $alg) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
if [ -n "$policy" ]; then
  set_attr recompress_policy "$policy" || { fail $name "recompress_policy '$policy' refused"; exit 0; }
fi
mkswap $dev >/dev/null && swap_on $dev || { fail $name "swapon failed"; exit 0; }
drop_caches
free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
mb=$((free_kb * fill / 100 / 1024))
echo "guest: setup $(grep MemTotal /proc/meminfo | tr -s ' '), MemAvailable $free_kb kB, load $mb MB of corpus pages, algorithm $alg, recompress_policy $(attr $id recompress_policy | sed 's/\\n.*//'), hold $hold s"
dmesg -c >/dev/null

/tests/trace.sh $id &
tracer=$!
sleep 3
rm -f /tmp/go
phase fill
swappable page-verify --passes 1 --corpus /dev/vda $mb /tmp/go >/tmp/pv.log 2>&1 &
pv=$!
i=0
while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $i -lt 12000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q FILLED /tmp/pv.log || { kill $tracer; fail $name "page-verify did not fill ($(tail -3 /tmp/pv.log))"; exit 0; }
phase idle
echo "guest: filled: mm_stat $(attr $id mm_stat | tr -s ' '); swap used $(awk -v d=$dev '$1 == d {print $4}' /proc/swaps) kB"
sleep $hold
echo "guest: after the idle phase: mm_stat $(attr $id mm_stat | tr -s ' '); object_stat $(attr $id object_stat | tr -s ' ')"
touch /tmp/go
phase read
# The phases of the load as it reaches them (its output is line-buffered to the file).
(
  while ! grep -q 'pass 1 done' /tmp/pv.log && kill -0 $pv 2>/dev/null; do sleep 0.2; done
  grep -q 'pass 1 done' /tmp/pv.log && phase verify
) &
marker=$!
wait_logged $pv /tmp/pv.log
rc=$?
phase end
wait $marker 2>/dev/null
sleep 5
kill $tracer
wait $tracer 2>/dev/null
oom=$(dmesg | grep -c 'Killed process')
werr=$(dmesg | grep -c -E 'critical space allocation error|Write-error on swap-device|Read-error on swap-device')
echo "guest: RESULT $(sed -n 's/page-verify: PHASES //p' /tmp/pv.log); mm_stat $(attr $id mm_stat | tr -s ' '); io_stat $(attr $id io_stat | tr -s ' '); OOM kills $oom, swap I/O errors $werr"
echo "guest: recompress_status $(attr $id recompress_status)"
grep -E 'VERIFIED|ACCESS|corrupted' /tmp/pv.log | head -4 | sed 's/^/guest:   /'
swapoff $dev 2>/dev/null
call RemoveDevice "{\"id\": $id}" >/dev/null
stop_daemon
[ $rc = 0 ] || { fail $name "the load exited with $rc: $(tail -2 /tmp/pv.log | tr '\n' ' ')"; exit 0; }
[ $oom = 0 ] || { oom_report; fail $name "OOM kill: $(dmesg | grep -m1 'Killed process')"; exit 0; }
[ $werr = 0 ] || { fail $name "swap I/O errors: $(dmesg | grep -m1 -E 'critical space|Write-error|Read-error')"; exit 0; }
pass $name
