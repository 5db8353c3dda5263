#!/bin/sh
# trace.sh SOURCE [SECONDS]: a swap device's memory over time, for tests/bench/plot-swap-run.
# Started in the background by a guest test; every SECONDS (default 1) until killed it prints
#   guest: trace T,ORIG,COMPR,MEM_USED,PSWPIN
# T: seconds since boot (/proc/uptime); ORIG, COMPR, MEM_USED: mm_stat's orig_data_size,
# compr_data_size and mem_used_total in bytes (empty when mm_stat could not be read, e.g. while
# the daemon restarts); PSWPIN: /proc/vmstat's pswpin, pages swapped in since boot, every swap
# device together. The first line is the header "guest: trace t,orig_data_size,...", so several
# traces in one console log stay apart.
# SOURCE: a file holding mm_stat (kernel zram: /sys/block/zram0/mm_stat), or the id of a
# trueno-zramd device (its mm_stat attribute, over varlink).
# Shell builtins only between samples, as memtrace.sh: a trueno-zramd device's mm_stat costs a
# varlink-call each time.
. /tests/common.sh
source=${1:?usage: trace.sh MM_STAT_FILE|DEVICE_ID [SECONDS]}
every=${2:-1}
echo "guest: trace-source $source, every $every s"
echo "guest: trace t,orig_data_size,compr_data_size,mem_used_total,pswpin"
fifo=/tmp/.trace.$$
mkfifo $fifo 2>/dev/null
exec 3<>$fifo
rm -f $fifo
while :; do
  read -r up _ </proc/uptime
  mm=
  case $source in
  /*) read -r mm <"$source" 2>/dev/null ;;
  *) mm=$(attr "$source" mm_stat 2>/dev/null) ;;
  esac
  set -- $mm
  orig=${1:-} compr=${2:-} used=${3:-}
  pswpin=
  while read -r key value; do
    [ "$key" = pswpin ] && { pswpin=$value; break; }
  done </proc/vmstat
  echo "guest: trace $up,$orig,$compr,$used,$pswpin"
  read -t "$every" _ <&3
done
