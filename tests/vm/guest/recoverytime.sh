#!/bin/sh
# VM measurement (not a test of speed; run on request: TRUENO_VM_ONLY=recoverytime): how long a
# restarted trueno-zramd takes to serve a device holding 1 GiB of real pages again, after
# SIGKILL and after SIGTERM (the daemon's own log: attach and recovery). Every page is checked,
# so it ends in PASS/FAIL like the tests.
. /tests/common.sh
name=recovery-time
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
restart_with() { # signal
  kill -$1 $DAEMON
  wait $DAEMON 2>/dev/null
  DAEMON=
  start_daemon --standby false || { fail $name "the daemon did not start again after SIG$1"; exit 0; }
  echo "guest: after SIG$1: $(grep 'serving again' /tmp/zramd.log | tail -1 | sed 's/.*info: //')"
}

# No standby: this measures a daemon started by hand (the standby's take-over is in its log too).
start_daemon --standby false || { fail $name "daemon start"; exit 0; }
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

stop_daemon
pass $name
