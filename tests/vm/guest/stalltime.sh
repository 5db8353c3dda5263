#!/bin/sh
# VM measurement (run on request: TRUENO_VM_ONLY=stalltime): the longest stall a process
# swapping real pages sees, with no restart (trueno.how=none, the baseline under this pressure),
# across a planned restart (trueno.how=TERM: SIGTERM, then the same command line at once) or
# across a crash (trueno.how=KILL, its standby taking over). One case per boot, so each starts from a
# fresh guest. Every page is checked, so it ends in PASS/FAIL like the tests.
. /tests/common.sh
name=stall-time
[ -b /dev/vda ] || { fail $name "no corpus disk (/dev/vda)"; exit 0; }
protect_from_swap || { fail $name "cannot set up the no-swap cgroup"; exit 0; }
# At the kernel's default vm settings (trueno.wsf=N sets vm.watermark_scale_factor).
wsf=$(sed -n 's/.*trueno\.wsf=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$wsf" ] && echo $wsf >/proc/sys/vm/watermark_scale_factor
start_daemon || { fail $name "daemon start"; exit 0; }
standbys=1
id=$(create 805306368 lz4) || { fail $name "CreateDevice failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; exit 0; }
echo 0 >/sys/block/ublkb$id/queue/wbt_lat_usec 2>/dev/null
mkswap $dev >/dev/null && swap_on $dev || { fail $name "swapon failed"; exit 0; }
free_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
how=$(sed -n 's/.*trueno\.how=\([A-Za-z]*\).*/\1/p' /proc/cmdline)
for how in ${how:-none}; do
  rm -f /tmp/go
  swappable page-verify --touch --corpus /dev/vda $((free_kb * 3 / 2 / 1024)) /tmp/go >/tmp/pv.log 2>&1 &
  pv=$!
  k=0
  while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $k -lt 3000 ]; do sleep 0.1; k=$((k + 1)); done
  sleep 3
  if [ $how != none ]; then
    if [ $how = KILL ]; then
      # A crash: the standby takes over.
      wait_standby $standbys || { fail $name "no standby"; exit 0; }
      kill_to_standby || { fail $name "the standby did not take over"; exit 0; }
      standbys=$((standbys + 1))
    else
      signal_daemon $how || { fail $name "the daemon did not end on SIG$how"; exit 0; }
      start_daemon || { fail $name "the daemon did not start again after SIG$how"; exit 0; }
      count_standbys
      standbys=$((STANDBY_COUNT + 1))
    fi
  fi
  sleep 3
  touch /tmp/go
  wait $pv || { fail $name "pages lost ($how): $(tail -3 /tmp/pv.log)"; exit 0; }
  echo "guest: swap load, restart: $how: $(grep TOUCHED /tmp/pv.log | sed 's/page-verify: //')"
done
swapoff $dev
call RemoveDevice "{\"id\": $id}" >/dev/null
stop_daemon
pass $name
