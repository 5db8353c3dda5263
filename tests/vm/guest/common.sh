# Helpers for the guest tests: start the daemon, call it over varlink, report results.
SOCK=/run/trueno-zram/io.trueno.zram
IFACE=io.trueno.zram
# trueno.zramd=--opt=value,--opt2=value on the kernel command line (TRUENO_VM_APPEND): more
# daemon options, for experiments.
TRUENO_ZRAMD_OPTIONS=$(sed -n 's/.*trueno\.zramd=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
# trueno.discard=0 on the kernel command line: swapon without discard (experiments).
SWAP_DISCARD=$(sed -n 's/.*trueno\.discard=\([01]\).*/\1/p' /proc/cmdline)
DAEMON=

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# oom_report: the first OOM kill's memory summary, one "guest:   oom:" line each (the console,
# quiet, shows none of it): what the kernel could not reclaim, what was under writeback to the
# swap device, and the largest processes then.
oom_report() {
  dmesg | grep -m1 -o 'Killed process.*' | sed 's/^/guest:   oom: /'
  dmesg | sed -n '/invoked oom-killer/,/Killed process/p' |
    grep -m14 -E 'invoked oom-killer|active_anon|free:|writeback|unevictable:|Node 0 DMA32|Free swap|Total swap|pages in swap cache' |
    sed 's/^\[[ 0-9.]*\] //; s/^/guest:   oom: /'
  # The task table's largest entries (6.12: uid tgid total_vm rss rss_anon rss_file rss_shmem
  # pgtables_bytes swapents oom_score_adj name; counts in pages): the daemon, its standby, the load.
  dmesg | sed -n '/Tasks state/,/oom-kill:/p' | sed 's/^\[[ 0-9.]*\] //' | grep -E '^\[ *[0-9]+\]' |
    sed 's/^\[ *[0-9]*\] *//' | awk '{print $NF " rss " $4 " anon " $5 " swapents " $9}' |
    sort -k3 -n -r | head -6 | sed 's/^/guest:   oom: task /'
}

# call METHOD [JSON]: the reply on stdout, non-zero on any error.
call() {
  params='{}'
  [ $# -ge 2 ] && params=$2
  varlink-call --timeout 120 "$SOCK" "$IFACE.$1" "$params"
}

# start_daemon ARGS...: runs trueno-zramd in the background, waits until it is ready. Between
# the fork and "ready" it forks nothing (see pause below): a restarted daemon is ready only once
# its devices are served again.
start_daemon() {
  count_ready
  readies=$READY_COUNT
  # More daemon options for experiments: TRUENO_ZRAMD_OPTIONS, read once at the guest's start
  # (no fork here: a restart while the daemon is dead must need as little memory as it can).
  trueno-zramd "$@" ${TRUENO_ZRAMD_OPTIONS:-} >>/tmp/zramd.log 2>&1 &
  DAEMON=$!
  i=0
  while [ $i -lt 300 ]; do
    count_ready
    if [ $READY_COUNT -gt $readies ]; then
      varlink-call --timeout 5 "$SOCK" $IFACE.ListDevices >/dev/null 2>&1 && return 0
    fi
    kill -0 $DAEMON 2>/dev/null || break
    pause 0.1
    i=$((i + 1))
  done
  echo "daemon did not come up:"; cat /tmp/zramd.log
  # Where it waits, and what memory looked like.
  for t in /proc/$DAEMON/task/*; do
    echo "  thread $(cat $t/comm 2>/dev/null) state $(awk '{print $3}' $t/stat 2>/dev/null):"
    sed 's/^/    /' $t/stack 2>/dev/null | head -25
  done
  grep -E '^(MemFree|MemAvailable|Dirty|Writeback|AnonPages|Shmem|Unevictable|SwapFree|SwapCached):' /proc/meminfo | tr -s ' ' | sed 's/^/  /'
  # Every task in D state with its kernel stack (sysrq w), for a wait inside the kernel.
  echo w >/proc/sysrq-trigger 2>/dev/null && sleep 1 && dmesg | sed -n '/show-blocked-tasks\|Show Blocked State/,$p' | tail -120 | sed 's/^/  dmesg: /'
  return 1
}

# swap_on DEV: swap on DEV as users get it: trueno-zram-generator's (and zram-generator's)
# swap units pass "discard" by default, so the kernel tells the device of swap clusters it
# freed and their pages' memory goes back (kernel zram hears of every freed slot anyway).
swap_on() {
  if [ "$SWAP_DISCARD" = 0 ]; then swapon "$1"; else swapon -d "$1"; fi # busybox: -d discards at swapon and as freed
}

# count_ready: READY_COUNT = how many times a daemon said it was ready in /tmp/zramd.log.
count_ready() {
  READY_COUNT=0
  [ -f /tmp/zramd.log ] || return 0
  while read -r line; do
    case $line in *"info: trueno-zramd "*" ready") READY_COUNT=$((READY_COUNT + 1)) ;; esac
  done </tmp/zramd.log
}

# count_standbys: STANDBY_COUNT = how many standbys said they were ready in /tmp/zramd.log,
# STANDBY = the pid of the last one (builtins only: used while the daemon may be dead).
count_standbys() {
  STANDBY_COUNT=0
  STANDBY=
  [ -f /tmp/zramd.log ] || return 0
  while read -r line; do
    case $line in
      *"info: standby ready, pid "*)
        STANDBY_COUNT=$((STANDBY_COUNT + 1))
        STANDBY=${line##*standby ready, pid }
        STANDBY=${STANDBY%%:*}
        ;;
    esac
  done </tmp/zramd.log
}

# wait_standby N: waits (at most 60 s) until N standbys in all have said they are ready.
wait_standby() {
  i=0
  while [ $i -lt 600 ]; do
    count_standbys
    [ $STANDBY_COUNT -ge $1 ] && return 0
    pause 0.1
    i=$((i + 1))
  done
  echo "guest: no standby ready ($STANDBY_COUNT of $1) in 60 s:"; tail -20 /tmp/zramd.log
  return 1
}

# kill_to_standby: SIGKILLs the daemon, whose standby (ready: see wait_standby) takes its
# devices over; waits (at most 60 s) until it says it is ready, and makes it DAEMON. Forks
# nothing: between the kill and the take-over, a fork could wait in reclaim for the dead device.
kill_to_standby() {
  count_standbys
  local heir=$STANDBY
  count_ready
  local readies=$READY_COUNT
  kill -KILL $DAEMON
  wait $DAEMON 2>/dev/null
  DAEMON=
  i=0
  while [ $i -lt 600 ]; do
    count_ready
    if [ $READY_COUNT -gt $readies ]; then DAEMON=$heir; return 0; fi
    pause 0.1
    i=$((i + 1))
  done
  echo "guest: the standby (pid $heir) did not take over within 60 s; where it waits:"
  # By builtins alone: with memory gone, a fork here never returned (seen at 256 MB). First the
  # standby's own threads (state, kernel stack) and the last steps its log names: the report
  # that follows was once cut off before it reached them. Then the blocked tasks and memory
  # (sysrq w, m) and, in this shell, the hang watch's report.
  show_threads $heir
  local line n=0
  while read -r line; do
    n=$((n + 1))
    eval "log_$((n % 12))=\$line"
  done </tmp/zramd.log
  local k=$((n > 12 ? n - 11 : 1))
  while [ $k -le $n ]; do
    eval "echo \"zramd (last lines): \$log_$((k % 12))\""
    k=$((k + 1))
  done
  echo 8 >/proc/sysrq-trigger
  echo w >/proc/sysrq-trigger
  echo m >/proc/sysrq-trigger
  set -- 0
  . /tests/hangwatch.sh
  return 1
}

# show_threads PID: each thread's name, state, wait channel and kernel stack (builtins only).
show_threads() {
  local task tcomm stat wchan frame
  for task in /proc/$1/task/*; do
    read -r tcomm <$task/comm 2>/dev/null
    read -r stat <$task/stat 2>/dev/null
    read -r wchan <$task/wchan 2>/dev/null
    set -- $stat
    echo "thread: ${task#/proc/} $tcomm state $3 wchan ${wchan:-?} minflt ${10} utime ${14} stime ${15}"
    [ -r $task/stack ] && while read -r frame; do echo "thread:   $frame"; done <$task/stack
  done
}

# While the daemon is dead, a fork may have to reclaim, and reclaim then waits for the dead
# device: between a kill and the restart the tests fork nothing they can do with builtins.
# pause SECONDS: sleeps in a builtin (read's timeout on a fifo nobody writes).
[ -p /tmp/.pause ] || mkfifo /tmp/.pause
pause() {
  read -t "$1" _ <>/tmp/.pause
}

# is_swap DEV: DEV is in /proc/swaps (builtins only).
is_swap() {
  while read -r swap_dev _; do
    [ "$swap_dev" = "$1" ] && return 0
  done </proc/swaps
  return 1
}

# alive PID: the process runs (a zombie does not).
alive() {
  local state=
  [ -r /proc/$1/stat ] || return 1
  read -r _ _ state _ </proc/$1/stat 2>/dev/null || return 1
  [ "$state" != Z ] && [ "$state" != X ]
}

stop_daemon() {
  [ -n "$DAEMON" ] || return 0
  kill -TERM $DAEMON 2>/dev/null
  i=0
  # A standby that took over is not this shell's child: its zombie counts as gone.
  while alive $DAEMON && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  if alive $DAEMON; then echo "daemon did not stop on SIGTERM"; return 1; fi
  wait $DAEMON 2>/dev/null
  DAEMON=
}

# create SIZE ALGORITHM: prints the new device's id.
create() {
  out=$(call CreateDevice "{\"size\": $1, \"algorithm\": \"$2\"}") || { echo "$out" >&2; return 1; }
  echo "$out" | sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p'
}

# attr ID NAME: one attribute's value.
attr() {
  call GetAttributes "{\"id\": $1}" | sed -n "s/^ *\"$2\": *\"\(.*\)\",\{0,1\}\$/\1/p"
}

# field N of mm_stat (1 orig_data_size, 2 compr_data_size, 3 mem_used_total ...).
mm_field() { # id n
  attr "$1" mm_stat | awk -v n="$2" '{print $n}'
}

wait_for_node() { # path
  i=0
  while [ ! -b "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  [ -b "$1" ]
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# What restarts the daemon must never wait for a page in the daemon's own swap: init started
# this shell in a cgroup that may not swap (as trueno-zramd makes sure of PID 1 and journald
# under systemd). Checked, not done here: memory stays charged where it was first touched, so
# moving a running shell would leave its pages swappable. Loads that should swap are started
# with `swappable`, in a cgroup of their own.
protect_from_swap() {
  grep -qx '0::/harness' /proc/$$/cgroup && [ "$(cat /sys/fs/cgroup/harness/memory.swap.max)" = 0 ]
}
swappable() { # command...: runs it in the load cgroup
  sh -c 'echo $$ >/sys/fs/cgroup/load/cgroup.procs && exec "$@"' swappable "$@"
}

# wait_logged PID LOG: waits for PID; if LOG does not change for 60 s, prints memory, the
# daemon's thread states and every blocked task's kernel stack once (a hang shows where).
wait_logged() {
  local last="" same=0 dumped=0
  while kill -0 $1 2>/dev/null && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; do
    sleep 5
    local now
    now=$(tail -c 200 $2 2>/dev/null | md5sum)
    if [ "$now" = "$last" ]; then same=$((same + 5)); else same=0; last=$now; fi
    if [ $same -ge 60 ] && [ $dumped = 0 ]; then
      dumped=1
      echo "guest: no progress for 60 s; memory: $(grep -E '^(MemFree|Unevictable|Shmem|SwapFree|Writeback|AnonPages):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
      [ -n "$DAEMON" ] && for t in /proc/$DAEMON/task/*; do echo "guest:   $(cat $t/comm) $(awk '{print $3}' $t/stat) $(cat $t/wchan)"; done
      echo w >/proc/sysrq-trigger 2>/dev/null && sleep 1 && dmesg | sed -n '/Show Blocked State/,$p' | tail -150 | sed 's/^/  dmesg: /'
    fi
  done
  wait $1
}

# signal_daemon SIG: sends SIG to the daemon and waits (at most 60 s) for it to be gone; if it
# is not, prints where its threads wait (and every blocked task's kernel stack) and returns 1.
signal_daemon() {
  kill -$1 $DAEMON
  local i=0
  while [ -d /proc/$DAEMON ] && [ "$(awk '{print $3}' /proc/$DAEMON/stat 2>/dev/null)" != Z ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if [ $i -ge 600 ]; then
    echo "guest: the daemon did not end within 60 s of SIG$1:"
    for t in /proc/$DAEMON/task/*; do
      echo "guest:   thread $(cat $t/comm) $(awk '{print $3}' $t/stat):"
      sed 's/^/guest:     /' $t/stack 2>/dev/null | head -20
    done
    echo w >/proc/sysrq-trigger 2>/dev/null && sleep 1 && dmesg | sed -n '/Show Blocked State/,$p' | tail -150 | sed 's/^/  dmesg: /'
    return 1
  fi
  wait $DAEMON 2>/dev/null
  DAEMON=
}

# rss_breakdown PID: where a process's resident memory is (kB, from /proc/PID/smaps): the
# System V store segments, the heap, other anonymous mappings (thread stacks, buffers, codec
# state), and files (its binary and libraries; shared with other processes).
rss_breakdown() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / {
      path = $6
      kind = "anon"
      if (path == "[heap]") kind = "heap"
      else if (path ~ /^\[stack/) kind = "stack"
      else if (path ~ /SYSV/) kind = "sysv-store"
      else if (path ~ /^\//) kind = "files"
      else if (path ~ /^\[/) kind = "other"
      next
    }
    /^Rss:/ { rss[kind] += $2; total += $2 }
    END {
      printf "total %d kB:", total
      for (k in rss) printf " %s %d", k, rss[k]
      printf "\n"
    }' /proc/$1/smaps
}

# rss_top PID N: the N mappings holding most resident memory (kB, name), for a breakdown by
# library and by thread stack.
rss_top() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "anon:" $1 : $6; next }
    /^Rss:/ { rss[name] += $2 }
    END { for (n in rss) if (rss[n] > 0) printf "%d %s\n", rss[n], n }' /proc/$1/smaps | sort -rn | head -${2:-12}
}

# cpu_ticks: the guest's CPU time so far, in clock ticks (USER_HZ, 100 a second):
# "user system idle iowait irq+softirq" (user includes nice), from /proc/stat.
cpu_ticks() {
  awk '$1 == "cpu" { print $2 + $3, $4, $5, $6, $7 + $8; exit }' /proc/stat
}

# cpu_spent BEFORE AFTER: what the guest's CPUs did between two cpu_ticks readings, in seconds.
cpu_spent() { # "before" "after"
  echo "$1 $2" | awk '{ printf "user %.1f s, system %.1f s, idle %.1f s, iowait %.1f s, irq %.1f s",
    ($6 - $1) / 100, ($7 - $2) / 100, ($8 - $3) / 100, ($9 - $4) / 100, ($10 - $5) / 100 }'
}

# thread_ticks PID: each thread's CPU time so far in ticks (10 ms), user and system, summed by
# thread name: "name=USER+SYSTEM ...", one line.
thread_ticks() {
  for t in /proc/$1/task/*; do
    read -r stat <$t/stat 2>/dev/null || continue
    comm=${stat#*(}; comm=${comm%%)*}
    echo "$comm ${stat##*) }"
  done | awk '{ u[$1] += $13; s[$1] += $14 } END { for (n in u) printf "%s=%d+%d ", n, u[n], s[n]; printf "\n" }'
}

# process_ticks PID: "USER+SYSTEM CHILDREN_USER+CHILDREN_SYSTEM" ticks of a process (for
# kswapd0, or this shell's reaped children).
process_ticks() {
  read -r stat </proc/$1/stat 2>/dev/null || return
  echo "${stat##*) }" | awk '{ printf "%d+%d %d+%d", $12, $13, $14, $15 }'
}

# pid_of_comm NAME: the first process whose name (comm) is NAME, such as a kernel thread that
# pgrep does not match.
pid_of_comm() {
  for c in /proc/[0-9]*/comm; do
    read -r n <$c 2>/dev/null || continue
    [ "$n" = "$1" ] || continue
    c=${c#/proc/}
    echo ${c%/comm}
    return 0
  done
  return 1
}

# setattr ID NAME VALUE: writes one attribute; the reply (an error's, with its errno) on
# stdout, non-zero if it was refused.
setattr() {
  call SetAttribute "{\"id\": $1, \"name\": \"$2\", \"value\": \"$3\"}"
}
