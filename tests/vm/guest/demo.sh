#!/bin/sh
# The README's main job, inside the VM: trueno-zramd as swap under a memory load, then the
# kernel's zram under the same load, and both devices' listings and statistics side by side.
#
# The load runs in a memory cgroup (memory.max), so its pages are reclaimed into swap while the
# rest of the system keeps free memory: the way systemd's MemoryMax= drives services into swap.
. /tests/common.sh
name=demo
SIZE=512M
LOAD_MB=${DEMO_LOAD_MB:-192}
LIMIT=64M

mkdir -p /sys/fs/cgroup
grep -q ' /sys/fs/cgroup cgroup2' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup || { fail $name "cannot mount cgroup2"; exit 0; }
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || { fail $name "no memory controller"; exit 0; }
mkdir -p /sys/fs/cgroup/load
echo $LIMIT >/sys/fs/cgroup/load/memory.max

# The load's pages: real process memory when the host gave a corpus disk (tests/vm/demo names it
# in trueno.corpus=), else page-verify's synthetic pages, which compress far better.
if [ -b /dev/vda ]; then
  PAGES="--corpus /dev/vda"
  corpus_name=$(sed -n 's/.*trueno\.corpus=\([^ ]*\).*/\1/p' /proc/cmdline)
  corpus_mb=$(($(cat /sys/block/vda/size) / 2048))
  echo "demo: pages: real process memory (${corpus_name:-unnamed corpus}), a $corpus_mb MB corpus read in order"
  # page-verify wraps around: a smaller corpus repeats its pages through the load.
  [ $corpus_mb -lt $LOAD_MB ] && echo "demo: pages: the corpus is smaller than the ${LOAD_MB} MB load: its pages repeat"
else
  PAGES=
  echo "demo: pages: synthetic (page-verify's generated pages, about 25:1 with zstd; not the ratio of real memory)"
fi

io_stat_of() { trueno-zramctl --stat "$1" | sed -n 's/^io_stat: *//p'; }

# Each listed value must be mm_stat's field as read just before and just after the listing: the
# same value when mm_stat sat still, else between the two readings.
# within WHAT 'V1 V2 ..' FIELD1 FIELD2 ..: each Vi within mm_stat's field FIELDi before/after;
# else false, with the first value that is not in BAD_VALUE and its field in BAD_FIELD.
within() {
  values=$2
  shift 2
  i=0
  for value in $values; do
    i=$((i + 1))
    field=$(eval echo "\${$i}")
    lo=$(awk -v f="$field" '{print $f}' /tmp/mm_stat)
    hi=$(awk -v f="$field" '{print $f}' /tmp/mm_stat_after)
    [ "$lo" -le "$hi" ] || { t=$lo; lo=$hi; hi=$t; }
    [ -n "$value" ] && [ "$value" -ge "$lo" ] && [ "$value" -le "$hi" ] || { BAD_VALUE=$value BAD_FIELD=$field; return 1; }
  done
}
metric() { sed -n "s|^trueno_zram_$1{device=\"$dev\"} ||p" /tmp/metrics; }
exported_values() { echo "$(metric orig_data_bytes) $(metric compr_data_bytes) $(metric mem_used_total_bytes) $(metric same_pages)"; }
# trueno-zramctl's byte listing and metrics, read between the two mm_stat readings, agree with them.
listing_consistent() {
  within listing "$(cat /tmp/listed_bytes)" 1 2 3 && within metrics "$(exported_values)" 1 2 3 6
}

# run_load: fills LOAD_MB of checksummed pages inside the cgroup, lists the devices and saves
# the device's mm_stat in /tmp/mm_stat while the pages sit in swap (the kernel frees zram slots
# as pages come back in), then reads every page back and checks it.
run_load() { # title mm_stat-command list-command...
  title=$1
  mm_command=$2
  shift 2
  rm -f /tmp/go /tmp/pv.log
  sh -c "echo \$\$ >/sys/fs/cgroup/load/cgroup.procs && exec page-verify $PAGES $LOAD_MB /tmp/go" >/tmp/pv.log 2>&1 &
  pv=$!
  i=0
  while ! grep -q FILLED /tmp/pv.log && kill -0 $pv 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
  echo "demo: --- $title, with ${LOAD_MB} MB of the load in a ${LIMIT} cgroup ---"
  # With real pages the daemon's background work still moves mem_used for some seconds after the
  # fill (seen: 4 kB up to 1.1 MB down, settled within 3 to 12 s; once still moving a page at a
  # time after 30 s, both ways: objects that borrowed a larger size class moving back): the
  # listings count when mm_stat read before and after them is the same, or, after 30 s, when
  # every listed value lies between the two readings (listing_consistent).
  tries=0
  eval "$mm_command" >/tmp/mm_stat_first
  while :; do
    eval "$mm_command" >/tmp/mm_stat
    [ "$1" = trueno-zramctl ] && io_stat_of "$dev" >/tmp/io_stat
    "$@" >/tmp/listing
    if [ "$1" = trueno-zramctl ]; then
      trueno-zramctl --bytes --noheadings --raw --output DATA,COMPR,TOTAL >/tmp/listed_bytes
      trueno-zramctl --metrics >/tmp/metrics
      io_stat_of "$dev" >/tmp/io_stat_after
    fi
    eval "$mm_command" >/tmp/mm_stat_after
    cmp -s /tmp/mm_stat /tmp/mm_stat_after && { [ "$1" != trueno-zramctl ] || cmp -s /tmp/io_stat /tmp/io_stat_after; } && break
    tries=$((tries + 1))
    if [ $tries -ge 30 ] && [ "$1" = trueno-zramctl ] && listing_consistent; then
      echo "demo: mm_stat still moving after $tries s; the listing read between two readings agrees with them"
      break
    fi
    [ $tries -ge 90 ] && { echo "demo: mm_stat still moving after 90 s"; break; }
    sleep 1
  done
  [ $tries -gt 0 ] && [ $tries -lt 30 ] &&
    echo "demo: (mm_stat settled about $tries s after the fill; mem_used $(awk '{print $3}' /tmp/mm_stat_first) -> $(awk '{print $3}' /tmp/mm_stat))"
  sed 's/^/demo: /' /tmp/listing
  awk 'NR > 1 {printf "demo: swap %s used %d kB\n", $1, $4}' /proc/swaps
  touch /tmp/go
  wait $pv
  rc=$?
  grep -E 'VERIFIED|corrupted' /tmp/pv.log | tail -3 | sed 's/^/demo: /'
  return $rc
}

# 1. trueno-zram
start_daemon || { fail $name "daemon start"; exit 0; }
dev=$(trueno-zramctl --find --size $SIZE --algorithm zstd) || { fail $name "trueno-zramctl --find failed"; exit 0; }
wait_for_node "$dev" || { fail $name "$dev did not appear"; exit 0; }
mkswap "$dev" >/dev/null && swapon "$dev" || { fail $name "mkswap/swapon $dev failed"; exit 0; }
run_load "trueno-zram: trueno-zramctl" "trueno-zramctl --stat $dev | sed -n 's/^mm_stat: *//p'" trueno-zramctl ||
  { fail $name "pages lost through $dev"; exit 0; }
ours_mm=$(cat /tmp/mm_stat)
between() {
  within "$@" || {
    fail $name "$1: '$BAD_VALUE' is not mm_stat's field $BAD_FIELD (read before: $(awk -v f="$BAD_FIELD" '{print $f}' /tmp/mm_stat), after: $(awk -v f="$BAD_FIELD" '{print $f}' /tmp/mm_stat_after))"
    exit 0
  }
}
listed=$(cat /tmp/listed_bytes)
[ "$(echo $listed | wc -w)" = 3 ] || { fail $name "trueno-zramctl -b DATA,COMPR,TOTAL printed '$listed'"; exit 0; }
between "trueno-zramctl -b DATA COMPR TOTAL" "$listed" 1 2 3
echo "demo: trueno-zramctl --bytes DATA COMPR TOTAL match mm_stat: $listed (mm_stat before: $(awk '{print $1, $2, $3}' /tmp/mm_stat), after: $(awk '{print $1, $2, $3}' /tmp/mm_stat_after))"
# The metrics are mm_stat's fields too, under their names, for this device.
exported=$(exported_values)
[ "$(echo $exported | wc -w)" = 4 ] || { fail $name "trueno-zramctl --metrics: orig/compr/mem_used_total/same are '$exported'"; exit 0; }
between "trueno-zramctl --metrics orig/compr/mem_used_total/same" "$exported" 1 2 3 6
set -- $ours_mm
# And io_stat's, read with them.
set -- $(cat /tmp/io_stat)
exported_io="$(metric failed_reads_total) $(metric failed_writes_total) $(metric invalid_io_total) $(metric notify_free_total)"
[ "$exported_io" = "$1 $2 $3 $4" ] ||
  { fail $name "trueno-zramctl --metrics failed_reads/failed_writes/invalid_io/notify_free '$exported_io' differ from io_stat '$1 $2 $3 $4'"; exit 0; }
echo "demo: trueno-zramctl --metrics match io_stat: $exported_io"
tail -1 /tmp/metrics | grep -qx '# EOF' || { fail $name "trueno-zramctl --metrics does not end with # EOF"; exit 0; }
echo "demo: trueno-zramctl --metrics match mm_stat: $exported ($(grep -c '^trueno_zram' /tmp/metrics) samples)"
grep -q "^$dev .*\[SWAP\]" /tmp/listing || { fail $name "trueno-zramctl does not show $dev as [SWAP]"; exit 0; }
swapoff "$dev" || { fail $name "swapoff $dev failed"; exit 0; }
trueno-zramctl --reset "$dev" || { fail $name "trueno-zramctl --reset $dev failed"; exit 0; }
stop_daemon

# 2. the kernel's zram, same size, algorithm and load
echo 1 >/sys/block/zram0/reset 2>/dev/null
kdev=$(zramctl --find --size $SIZE --algorithm zstd) || { fail $name "zramctl --find failed"; exit 0; }
mkswap "$kdev" >/dev/null && swapon "$kdev" || { fail $name "mkswap/swapon $kdev failed"; exit 0; }
run_load "kernel zram: util-linux zramctl" "cat /sys/block/$(basename "$kdev")/mm_stat" zramctl ||
  { fail $name "pages lost through $kdev"; exit 0; }
kernel_mm=$(cat /tmp/mm_stat)
swapoff "$kdev"
zramctl --reset "$kdev"

echo "demo: --- side by side (mm_stat while the load was swapped out) ---"
printf 'demo: %-12s %12s %12s %12s %8s\n' device orig_data compr_data mem_used ratio
for row in "trueno-zram $ours_mm" "kernel-zram $kernel_mm"; do
  set -- $row
  awk -v d="$1" -v o="$2" -v c="$3" -v m="$4" \
    'BEGIN {printf "demo: %-12s %12d %12d %12d %8.2f\n", d, o, c, m, (m > 0 ? o / m : 0)}'
done
pass $name
