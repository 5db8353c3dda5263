#!/bin/sh
# VM test 4: the daemon killed with SIGKILL while its device is idle. The kernel must take the
# device down, and a restarted daemon must clean up and serve new devices.
. /tests/common.sh
name=kill-restart
start_daemon || { fail $name "daemon start"; exit 0; }
id=$(create 33554432 lzo-rle) || { fail $name "CreateDevice failed"; exit 0; }
wait_for_node /dev/ublkb$id || { fail $name "device did not appear"; exit 0; }
head -c 1048576 /dev/urandom >/tmp/data
dd if=/tmp/data of=/dev/ublkb$id bs=1M conv=fsync 2>/dev/null
kill -KILL $DAEMON
wait $DAEMON 2>/dev/null
DAEMON=
i=0
while [ -e /sys/block/ublkb$id ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e /sys/block/ublkb$id ] || { fail $name "ublkb$id still present 30 s after SIGKILL"; exit 0; }
echo "guest: ublkb$id went away $((i / 10)).$((i % 10)) s after SIGKILL"
start_daemon || { fail $name "daemon did not restart"; exit 0; }
grep -q orphan /tmp/zramd.log && echo "guest: restarted daemon deleted the orphaned device"
id2=$(create 33554432 lzo-rle) || { fail $name "CreateDevice after restart failed"; exit 0; }
wait_for_node /dev/ublkb$id2 || { fail $name "new device did not appear"; exit 0; }
dd if=/tmp/data of=/dev/ublkb$id2 bs=1M conv=fsync 2>/dev/null
drop_caches
head -c 1048576 /dev/ublkb$id2 | cmp - /tmp/data || { fail $name "new device reads back wrong data"; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
