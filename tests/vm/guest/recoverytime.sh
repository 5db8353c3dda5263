#!/bin/sh
# VM measurement (not a test of speed; run on request: TRUENO_VM_ONLY=recoverytime):
# 1. How long a restarted trueno-zramd takes to serve a device holding 1 GiB of real pages
#    again, after SIGKILL and after SIGTERM (the daemon's own log: attach and recovery).
# 2. The longest stall a process swapping real pages sees across a planned restart (SIGTERM,
#    then the same command line at once) and across a crash (SIGKILL, restarted at once).
# Every page is checked, so it ends in PASS/FAIL like the tests.
. /tests/common.sh
name=recovery-time
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
restart_with() { # signal
  kill -$1 $DAEMON
  wait $DAEMON 2>/dev/null
  DAEMON=
  start_daemon || { fail $name "the daemon did not start again after SIG$1"; exit 0; }
  echo "guest: after SIG$1: $(grep 'serving again' /tmp/zramd.log | tail -1 | sed 's/.*info: //')"
}

start_daemon || { fail $name "daemon start"; exit 0; }
id=$(create 1610612736 lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
corpus_mb=$(($(blockdev --getsize64 /dev/vda) >> 20))
i=0
while [ $((i * corpus_mb)) -lt 1024 ]; do
  dd if=/dev/vda of=$dev bs=1M seek=$((i * corpus_mb)) count=$corpus_mb conv=fsync 2>/dev/null
  i=$((i + 1))
done
echo "guest: wrote the corpus $i times ($((i * corpus_mb)) MiB); mm_stat $(attr $id mm_stat | tr -s ' ')"
sum_before=$(head -c $((corpus_mb << 20)) $dev | md5sum | cut -d' ' -f1)
restart_with KILL
restart_with TERM
restart_with KILL
drop_caches
j=0
while [ $j -lt $i ]; do
  sum=$(dd if=$dev bs=1M skip=$((j * corpus_mb)) count=$corpus_mb 2>/dev/null | md5sum | cut -d' ' -f1)
  [ "$sum" = "$sum_before" ] || { fail $name "copy $j of the corpus differs after the restarts"; exit 0; }
  j=$((j + 1))
done
echo "guest: daemon RSS $(grep VmRSS /proc/$DAEMON/status | tr -s ' ')"
call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice failed"; exit 0; }

# The stall across restarts, for a process swapping real pages.
echo 1000 >/proc/sys/vm/watermark_scale_factor
id=$(create 805306368 lz4) || { fail $name "CreateDevice (swap) failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
mkswap $dev >/dev/null && swapon $dev || { fail $name "swapon failed"; exit 0; }
free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
for sig in TERM KILL; do
  rm -f /tmp/go
  swappable page-verify --touch --corpus /dev/vda $((free_kb * 3 / 2 / 1024)) /tmp/go >/tmp/pv.log 2>&1 &
  pv=$!
  k=0
  while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $k -lt 3000 ]; do sleep 0.1; k=$((k + 1)); done
  sleep 3
  # The longest access before the restart, as a baseline: a separate short touch run.
  restart_with $sig
  sleep 3
  touch /tmp/go
  wait $pv || { fail $name "pages lost after SIG$sig: $(tail -3 /tmp/pv.log)"; exit 0; }
  echo "guest: swap load across SIG$sig and restart: $(grep TOUCHED /tmp/pv.log | sed 's/page-verify: //')"
done
swapoff $dev
call RemoveDevice "{\"id\": $id}" >/dev/null
stop_daemon
pass $name
