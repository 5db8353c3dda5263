#!/bin/sh
# memtrace.sh FILE: four times a second, one line to FILE: the quarter-second count, MemFree,
# Writeback and trueno-zramd's RssAnon (kB; RssAnon is its private memory, what a restart must
# find; "-" while none runs). Shell builtins only, as hangwatch.sh: it must go on sampling
# while the swap device's server is dead and memory is gone, the moment it is for.
mkfifo /tmp/.memtrace 2>/dev/null
exec 3<>/tmp/.memtrace
t=0
while :; do
  free=- wb=- rss=-
  while read -r key value _; do
    case $key in
    MemFree:) free=$value ;;
    Writeback:) wb=$value ;;
    esac
  done </proc/meminfo
  for comm in /proc/[0-9]*/comm; do
    read -r name <"$comm" 2>/dev/null || continue
    [ "$name" = trueno-zramd ] || continue
    while read -r key value _; do
      [ "$key" = RssAnon: ] && rss=$value
    done <"${comm%/comm}/status"
    break
  done
  echo "$t $free $wb $rss" >>"$1"
  read -t 0.25 _ <&3
  t=$((t + 1))
done
