#!/bin/sh
# VM test: a write past a device's mem_limit fails with an I/O error (ENOSPC or EIO) and never
# hangs; what was written before it reads back intact, freeing space lets writes succeed again,
# and the daemon keeps serving its other devices.
. /tests/common.sh
name=memlimit
limit=4194304
start_daemon || { fail $name "daemon start"; exit 0; }
out=$(call CreateDevice "{\"size\": 67108864, \"algorithm\": \"lz4\", \"mem_limit\": $limit}") ||
  { fail $name "CreateDevice with mem_limit failed: $out"; exit 0; }
id=$(echo "$out" | sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p')
other=$(create 33554432 zstd) || { fail $name "CreateDevice (second device) failed"; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev && wait_for_node /dev/ublkb$other || { fail $name "device nodes did not appear"; exit 0; }
[ "$(mm_field $id 4)" = $limit ] || { fail $name "mm_stat mem_limit is $(mm_field $id 4), want $limit"; exit 0; }

# Incompressible data, 4x the limit, written with O_DIRECT so the error reaches dd itself.
head -c 16777216 /dev/urandom >/tmp/rand
start=$(date +%s)
timeout 120 dd if=/tmp/rand of=$dev bs=65536 oflag=direct >/tmp/dd.out 2>&1
rc=$?
took=$(($(date +%s) - start))
echo "guest: dd past mem_limit: exit $rc after ${took} s: $(tr '\n' ' ' </tmp/dd.out)"
[ $rc = 124 ] || [ $rc = 143 ] && { fail $name "dd past mem_limit hung (killed by timeout after ${took} s)"; exit 0; }
[ $rc != 0 ] || { fail $name "dd of 16 MiB incompressible data under a 4 MiB mem_limit succeeded"; exit 0; }
grep -qiE 'no space left|i/o error' /tmp/dd.out || { fail $name "dd failed without ENOSPC/EIO: $(cat /tmp/dd.out)"; exit 0; }
records=$(sed -n 's/^\([0-9]*\)+[0-9]* records out.*/\1/p' /tmp/dd.out)
used=$(mm_field $id 3)
failed=$(attr $id io_stat | awk '{print $2}')
echo "guest: $records blocks of 64 KiB written before the error; mem_used_total $used, failed_writes $failed"
echo "guest: debug_stat: $(attr $id debug_stat | tr '\n' ' ')"
# Incompressible pages are stored whole: the write must have failed at the limit, not before it.
[ $((records * 65536)) -ge $((limit - 524288)) ] ||
  { fail $name "write failed after only $((records * 65536)) bytes, well below mem_limit $limit"; exit 0; }
[ "${used:-0}" -le $limit ] || { fail $name "mem_used_total $used is over mem_limit $limit"; exit 0; }
[ "${failed:-0}" -gt 0 ] || { fail $name "io_stat failed_writes is ${failed:-missing} after a refused write"; exit 0; }
kill -0 $DAEMON 2>/dev/null || { fail $name "daemon died"; exit 0; }

# What was accepted is intact.
drop_caches
bytes=$((records * 65536))
head -c $bytes /tmp/rand >/tmp/expect
head -c $bytes $dev | cmp - /tmp/expect || { fail $name "the $bytes bytes written before the error do not read back"; exit 0; }

# The other device is unaffected.
head -c 1048576 /dev/urandom >/tmp/small
dd if=/tmp/small of=/dev/ublkb$other bs=65536 oflag=direct 2>/dev/null || { fail $name "write to the other device failed"; exit 0; }
drop_caches
head -c 1048576 /dev/ublkb$other | cmp - /tmp/small || { fail $name "the other device reads back wrong data"; exit 0; }

# Freeing space on the limited device lets writes succeed again.
blkdiscard $dev || { fail $name "blkdiscard failed"; exit 0; }
dd if=/tmp/small of=$dev bs=65536 oflag=direct 2>/dev/null || { fail $name "write after discard failed (limit not released)"; exit 0; }
drop_caches
head -c 1048576 $dev | cmp - /tmp/small || { fail $name "write after discard reads back wrong data"; exit 0; }

call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice failed"; exit 0; }
call RemoveDevice "{\"id\": $other}" >/dev/null || { fail $name "RemoveDevice (second device) failed"; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
pass $name
