#!/bin/sh
# VM test 1: a device serves reads and writes of many sizes and offsets, discards, reset; in
# both copy modes (user copy needs 6.5+, buffer copy works everywhere).
. /tests/common.sh

run_mode() { # copy-mode
  mode=$1
  name=blockdev-$mode-copy
  start_daemon --copy-mode=$mode --queues 2 --queue-depth 64 || { fail $name "daemon start"; return; }
  id=$(create 67108864 zstd) || { fail $name "CreateDevice failed"; stop_daemon; return; }
  dev=/dev/ublkb$id
  wait_for_node $dev || { fail $name "$dev did not appear"; stop_daemon; return; }
  grep -q "$mode copy" /tmp/zramd.log || { fail $name "daemon did not use $mode copy"; cat /tmp/zramd.log; stop_daemon; return; }
  [ "$(blockdev --getss $dev)" = 4096 ] || { fail $name "logical block size $(blockdev --getss $dev), want 4096"; stop_daemon; return; }
  [ "$(blockdev --getsize64 $dev)" = 67108864 ] || { fail $name "size $(blockdev --getsize64 $dev)"; stop_daemon; return; }

  # A reference image gets the same writes as the device; they must read back identical.
  dd if=/dev/zero of=/tmp/ref bs=1M count=64 2>/dev/null
  head -c 4194304 /dev/urandom >/tmp/random
  i=0; while [ $i -lt 20000 ]; do echo "trueno compressible line $i"; i=$((i + 1)); done >/tmp/text
  for spec in "random 0 1" "random 4096 7" "text 16 64" "random 1000 33" "text 5000 257" "random 9000 1024" \
              "text 15000 3" "random 16383 1"; do
    set -- $spec
    dd if=/tmp/$1 of=$dev bs=4096 seek=$2 count=$3 conv=notrunc,fsync 2>/dev/null || { fail $name "dd to $dev seek=$2"; stop_daemon; return; }
    dd if=/tmp/$1 of=/tmp/ref bs=4096 seek=$2 count=$3 conv=notrunc 2>/dev/null
  done
  drop_caches
  cmp $dev /tmp/ref || { fail $name "read-back differs from what was written"; stop_daemon; return; }

  if command -v fio >/dev/null; then
    fio --name=verify --filename=$dev --offset=32M --size=12M --rw=randwrite --bsrange=4k-256k \
        --ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c --verify_fatal=1 --do_verify=1 \
        --output=/tmp/fio.out >/dev/null 2>&1 || { fail $name "fio verify failed"; cat /tmp/fio.out; stop_daemon; return; }
    # fio overwrote that region: mirror it into the reference before the discard check.
    drop_caches
    dd if=$dev of=/tmp/ref bs=1M skip=32 seek=32 count=12 conv=notrunc 2>/dev/null
  else
    echo "guest: fio not available, dd/cmp only"
  fi

  orig_before=$(mm_field $id 1)
  blkdiscard -o 4194304 -l 8388608 $dev || { fail $name "blkdiscard failed"; stop_daemon; return; }
  dd if=/dev/zero of=/tmp/ref bs=1M seek=4 count=8 conv=notrunc 2>/dev/null
  drop_caches
  cmp $dev /tmp/ref || { fail $name "discarded range does not read as zeros (or neighbours changed)"; stop_daemon; return; }
  orig_after=$(mm_field $id 1)
  notify_free=$(attr $id io_stat | awk '{print $4}')
  [ "$orig_after" -lt "$orig_before" ] || { fail $name "discard freed nothing (orig_data_size $orig_before -> $orig_after)"; stop_daemon; return; }
  [ "${notify_free:-0}" -gt 0 ] || { fail $name "notify_free is ${notify_free:-missing} after discard"; stop_daemon; return; }

  call SetAttribute "{\"id\": $id, \"name\": \"reset\", \"value\": \"1\"}" >/dev/null || { fail $name "reset refused"; stop_daemon; return; }
  sleep 0.2
  [ ! -e /sys/block/ublkb$id ] || { fail $name "ublkb$id still present after reset"; stop_daemon; return; }
  call GetAttributes "{\"id\": $id}" >/dev/null 2>&1 && { fail $name "reset device still answers"; stop_daemon; return; }
  stop_daemon || { fail $name "daemon did not stop"; return; }
  grep -qiE 'error|critical' /tmp/zramd.log && { fail $name "daemon logged errors"; cat /tmp/zramd.log; return; }
  pass $name
}

# One copy mode per boot (trueno.mode= on the kernel command line) keeps each VM short.
run_mode "$(sed -n 's/.*trueno\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)"
