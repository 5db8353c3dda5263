#!/bin/sh
# VM test 3: the same corpus pages through kernel zram and through trueno (ublk), lz4 and zstd:
# compression ratio from mm_stat (orig_data_size / mem_used_total) and write/read MB/s.
. /tests/common.sh
name=compare
[ -b /dev/vda ] || { fail $name "no corpus disk /dev/vda"; exit 0; }
bytes=$(blockdev --getsize64 /dev/vda)
mb=$((bytes / 1048576))
dd if=/dev/vda of=/tmp/corpus bs=1M 2>/dev/null
start_daemon || { fail $name "daemon start"; exit 0; }

now() { awk '{print $1}' /proc/uptime; }
mbps() { awk -v m=$mb -v a=$1 -v b=$2 'BEGIN { d = b - a; if (d <= 0) d = 0.01; printf "%.1f", m / d }'; }

# measure DEVICE: sets w_mbps r_mbps after writing then reading the corpus.
measure() {
  t0=$(now)
  dd if=/tmp/corpus of=$1 bs=1M conv=fsync 2>/dev/null || return 1
  t1=$(now)
  drop_caches
  t2=$(now)
  dd if=$1 of=/tmp/readback bs=1M count=$mb 2>/dev/null || return 1
  t3=$(now)
  cmp /tmp/readback /tmp/corpus || { echo "read-back mismatch on $1"; return 1; }
  rm -f /tmp/readback
  w_mbps=$(mbps $t0 $t1)
  r_mbps=$(mbps $t2 $t3)
}

ratio() { awk -v o=$1 -v u=$2 'BEGIN { if (u > 0) printf "%.3f", o / u; else print "n/a" }'; }

table="device             algorithm  orig_MB  used_MB  ratio  write_MB/s  read_MB/s"
ok=1
for alg in lz4 zstd; do
  echo 1 >/sys/block/zram0/reset
  echo $alg >/sys/block/zram0/comp_algorithm || { ok=0; echo "kernel zram lacks $alg"; continue; }
  echo $((mb * 2))M >/sys/block/zram0/disksize
  measure /dev/zram0 || { ok=0; continue; }
  set -- $(cat /sys/block/zram0/mm_stat)
  table="$table
kernel-zram0       $alg       $(($1 >> 20))  $(($3 >> 20))  $(ratio $1 $3)  $w_mbps  $r_mbps"
  echo 1 >/sys/block/zram0/reset

  id=$(create $((bytes * 2)) $alg) || { ok=0; continue; }
  wait_for_node /dev/ublkb$id || { ok=0; continue; }
  measure /dev/ublkb$id || { ok=0; continue; }
  set -- $(attr $id mm_stat)
  table="$table
trueno-ublkb$id      $alg       $(($1 >> 20))  $(($3 >> 20))  $(ratio $1 $3)  $w_mbps  $r_mbps"
  call RemoveDevice "{\"id\": $id}" >/dev/null || ok=0
done
echo "guest: corpus ${mb} MB"
echo "$table" | awk '{printf "%-18s %-10s %8s %8s %7s %11s %10s\n", $1, $2, $3, $4, $5, $6, $7}'
stop_daemon || ok=0
[ $ok = 1 ] && pass $name || fail $name "a measurement failed (see above)"
