#!/bin/sh
# hangwatch.sh SECONDS: started by init next to the test. If the test still runs after SECONDS,
# prints where each trueno-zramd thread waits and the ublk devices' requests, memory and the
# blocked tasks' kernel stacks (sysrq m, w), the daemon's log, then every task (sysrq t), so a
# hung VM says where it waits before the host's timeout ends it. A process of its own (exec'd, so its memory is charged to the
# no-swap cgroup) that sleeps in a builtin and forks nothing: it must still run when memory is
# gone and the swap device's server is dead.
[ -p /tmp/.hangwatch ] || mkfifo /tmp/.hangwatch 2>/dev/null # no fork when it exists: sourced by a test whose memory is gone
exec 3<>/tmp/.hangwatch
read -t "$1" _ <&3
echo "guest: hang watch: the test still runs after $1 s; memory, tasks and the daemon's log follow"
# The console log level through sysrq, not /proc/sys/kernel/printk: a sysctl write allocates a
# kernel buffer, and with memory gone that write waited for ever (seen: no output at all).
echo 8 >/proc/sysrq-trigger
# Where each trueno-zramd thread waits and the block layer's view first, then memory and the
# blocked tasks (sysrq m, w), then the daemon's log, then every task (sysrq t): under emulation
# the console is slow, and in CI the host's timeout twice ended a report before the daemon's
# threads were printed.
for proc in /proc/[0-9]*; do
  read -r comm <$proc/comm 2>/dev/null || continue
  case $comm in trueno-zramd | exe) ;; *) continue ;; esac
  for task in $proc/task/*; do
    read -r tcomm <$task/comm 2>/dev/null
    read -r stat <$task/stat 2>/dev/null
    read -r wchan <$task/wchan 2>/dev/null
    set -- $stat
    echo "thread: ${proc#/proc/}/${task##*/} $tcomm state $3 wchan ${wchan:-?}"
    [ -r $task/stack ] && while read -r frame; do echo "thread:   $frame"; done <$task/stack
  done
done
# The block layer's view of each ublk device: requests in flight, and (debugfs) the ones
# started and not completed, waiting for dispatch, or requeued and not yet kicked. A request
# the kernel holds while every queue thread of the daemon waits idle is stuck in the kernel.
for disk in /sys/block/ublkb*; do
  [ -d $disk ] || continue
  name=${disk##*/}
  read -r inflight <$disk/inflight 2>/dev/null
  echo "block: $name inflight (reads writes) $inflight"
  debug=/sys/kernel/debug/block/$name
  for file in $debug/state $debug/requeue_list $debug/hctx*/state $debug/hctx*/busy $debug/hctx*/dispatch \
    $debug/hctx*/tags; do
    [ -r $file ] || continue
    n=0
    while read -r line && [ $n -lt 20 ]; do
      echo "block: ${file#$debug/}: $line"
      n=$((n + 1))
    done <$file
  done
done
echo m >/proc/sysrq-trigger
echo w >/proc/sysrq-trigger
[ -f /tmp/zramd.log ] && while read -r line; do echo "zramd: $line"; done </tmp/zramd.log
[ -f /tmp/memtrace ] && while read -r line; do echo "memtrace: $line"; done </tmp/memtrace
echo t >/proc/sysrq-trigger
echo "guest: hang watch: end"
