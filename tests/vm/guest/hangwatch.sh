#!/bin/sh
# hangwatch.sh SECONDS: started by init next to the test. If the test still runs after SECONDS,
# prints memory, every task's state and kernel stack (sysrq m, w, t) and the daemon's log, so a
# hung VM says where it waits before the host's timeout ends it. A process of its own (exec'd,
# so its memory is charged to the no-swap cgroup) that sleeps in a builtin and forks nothing:
# it must still run when memory is gone and the swap device's server is dead.
mkfifo /tmp/.hangwatch 2>/dev/null
exec 3<>/tmp/.hangwatch
read -t "$1" _ <&3
echo "guest: hang watch: the test still runs after $1 s; memory, tasks and the daemon's log follow"
# The console log level through sysrq, not /proc/sys/kernel/printk: a sysctl write allocates a
# kernel buffer, and with memory gone that write waited for ever (seen: no output at all).
echo 8 >/proc/sysrq-trigger
echo m >/proc/sysrq-trigger
# The blocked tasks (w) and every task (t, minutes under emulation: the runnable ones matter
# too, a realtime task spinning in reclaim shows only there) first, printed by the kernel; then
# the logs, whose reads and writes from this shell may themselves wait for memory.
echo w >/proc/sysrq-trigger
echo t >/proc/sysrq-trigger
[ -f /tmp/zramd.log ] && while read -r line; do echo "zramd: $line"; done </tmp/zramd.log
[ -f /tmp/memtrace ] && while read -r line; do echo "memtrace: $line"; done </tmp/memtrace
echo "guest: hang watch: end"
