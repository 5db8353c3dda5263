#!/bin/sh
# Guest side of tests/service/vm-recompress: recompression on a real ublk device while the
# kernel reads and writes it. /dev/vda is a slice of the corpus (real memory pages).
. /tests/common.sh
name=recompress

set_attr() { # id name value
  call SetAttribute "{\"id\": $1, \"name\": \"$2\", \"value\": \"$3\"}" >/dev/null
}
# wait_for ID ATTRIBUTE PATTERN SECONDS: polls until the attribute matches (grep -E).
wait_for() {
  i=0
  while [ $i -lt $(($4 * 10)) ]; do
    attr $1 $2 | grep -qE "$3" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  echo "guest: $2 is still '$(attr $1 $2)'"
  return 1
}
same_as_corpus() { # dev MiB [skip MiB]: the device's first MiB read back equal the corpus slice
  drop_caches
  dd if=$1 of=/tmp/dev.img bs=1M count=$2 2>/dev/null
  dd if=/dev/vda of=/tmp/ref.img bs=1M count=$2 2>/dev/null
  cmp /tmp/dev.img /tmp/ref.img
}

[ -b /dev/vda ] || { fail $name "no corpus disk"; exit 0; }
start_daemon --queues 2 --queue-depth 64 || { fail $name "daemon start"; exit 0; }
id=$(create 67108864 lz4) || { fail $name "CreateDevice failed"; stop_daemon; exit 0; }
dev=/dev/ublkb$id
wait_for_node $dev || { fail $name "$dev did not appear"; stop_daemon; exit 0; }
dd if=/dev/vda of=$dev bs=1M count=32 oflag=direct 2>/dev/null || { fail $name "writing the corpus"; stop_daemon; exit 0; }

# By hand, as with kernel zram: a secondary algorithm, its params, idle, recompress.
set_attr $id recomp_algorithm "algo=zstd priority=1" || { fail $name "recomp_algorithm refused"; stop_daemon; exit 0; }
set_attr $id algorithm_params "priority=1 level=9" || { fail $name "algorithm_params refused"; stop_daemon; exit 0; }
attr $id recomp_algorithm | grep -q '^#1: .*\[zstd\]' || { fail $name "recomp_algorithm reads '$(attr $id recomp_algorithm)'"; stop_daemon; exit 0; }
set_attr $id idle all || { fail $name "idle refused"; stop_daemon; exit 0; }
before=$(mm_field $id 2)
t0=$(date +%s)
set_attr $id recompress "type=idle" || { fail $name "recompress refused"; stop_daemon; exit 0; }
# The control socket answers while it runs.
call ListDevices >/dev/null || { fail $name "ListDevices failed during recompression"; stop_daemon; exit 0; }
wait_for $id recompress_status '^done' 600 || { fail $name "recompress did not finish"; stop_daemon; exit 0; }
after=$(mm_field $id 2)
echo "guest: recompress: compr_data_size $before -> $after in $(($(date +%s) - t0)) s; $(attr $id recompress_status)"
[ "$after" -lt "$before" ] || { fail $name "recompression saved nothing"; stop_daemon; exit 0; }
same_as_corpus $dev 32 || { fail $name "pages differ after recompress"; stop_daemon; exit 0; }

# The automatic policy, set through trueno-zramctl's generic --set, while the kernel writes
# the second half of the device.
trueno-zramctl --socket $SOCK --set "recompress_policy=strong age=0 interval=2 rate=0 cpu=100 priority=2" $dev ||
  { fail $name "trueno-zramctl --set recompress_policy failed"; stop_daemon; exit 0; }
dd if=/dev/vda of=$dev bs=1M count=32 seek=32 skip=32 oflag=direct 2>/dev/null || { fail $name "writing during the policy"; stop_daemon; exit 0; }
wait_for $id recompress_policy 'last pass: number=[2-9]' 900 || { fail $name "no second policy pass"; stop_daemon; exit 0; }
echo "guest: policy: $(attr $id recompress_policy | sed 's/\\n/ | /')"
attr $id recompress_policy | grep -q 'retrained=yes\|number=[2-9]' || { fail $name "policy pass missing"; stop_daemon; exit 0; }
attr $id recomp_algorithm | grep -q '^#1: .*\\n#2: ' || { fail $name "recomp_algorithm lacks the policy's priority 2: $(attr $id recomp_algorithm)"; stop_daemon; exit 0; }
same_as_corpus $dev 64 || { fail $name "pages differ after the policy's passes"; stop_daemon; exit 0; }

# Removing the device stops its recompression thread promptly.
t0=$(date +%s)
call RemoveDevice "{\"id\": $id}" >/dev/null || { fail $name "RemoveDevice refused"; stop_daemon; exit 0; }
took=$(($(date +%s) - t0))
[ $took -le 10 ] || { fail $name "RemoveDevice took $took s"; stop_daemon; exit 0; }
stop_daemon || { fail $name "daemon did not stop"; exit 0; }
grep -qiE 'error|critical' /tmp/zramd.log && { fail $name "daemon logged errors"; cat /tmp/zramd.log; exit 0; }
pass $name
