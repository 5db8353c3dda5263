#!/bin/sh
# VM test: hostile clients on the control socket while a device serves I/O with data on it.
# Thousands of connections from two other users; garbage, truncated, oversized and pipelined-
# but-never-read messages and clients gone mid-call; wrong types, unknown methods and fields from
# root and from a user; every state change a user may try. Throughout, root's calls must be
# answered within PROMPT_MS; afterwards the daemon is alive, every user's change was refused and
# left no trace in the attributes, and the data reads back identical.
. /tests/common.sh
name=hostile-clients
began=$(cut -d. -f1 /proc/uptime)
PROMPT_MS=3000
R="hostile-client $SOCK"            # root
U="hostile-client --uid 1000 $SOCK" # a user
bad() { fail $name "$1"; echo "guest: daemon log tail:"; tail -20 /tmp/zramd.log | sed 's/^/guest:   /'; exit 0; }
alive() { kill -0 $DAEMON 2>/dev/null && [ "$(awk '{print $3}' /proc/$DAEMON/stat)" != Z ]; }

start_daemon || bad "daemon start"
id=$(create 67108864 lzo-rle) || bad "CreateDevice failed"
export TRUENO_DEVICE_ID=$id
dev=/dev/ublkb$id
wait_for_node $dev || bad "$dev did not appear"

# 16 MiB of data (random, then the daemon's binary: compressible), checked at the end.
head -c 8388608 /dev/urandom >/tmp/data
for i in 1 2 3 4 5 6 7 8 9 10; do cat /bin/trueno-zramd; done | head -c 8388608 >>/tmp/data
dd if=/tmp/data of=$dev bs=1M conv=fsync 2>/dev/null || bad "writing the data failed"
drop_caches
sum_before=$(head -c 16777216 $dev | md5sum | cut -d' ' -f1)
[ "$sum_before" = "$(md5sum </tmp/data | cut -d' ' -f1)" ] || bad "the data did not read back before the test"

# What a user must not be able to change, as root reads it.
snapshot() {
  a=$(call GetAttributes "{\"id\": $id}") || { echo "GetAttributes failed"; return; }
  get() { echo "$a" | sed -n "s/^ *\"$1\": *\"\(.*\)\",\{0,1\}\$/\1/p"; }
  echo "devices=$(call ListDevices | grep -c '"name": "/dev/ublkb') disksize=$(get disksize)" \
    "comp=$(get comp_algorithm) mem_limit=$(get mm_stat | awk '{print $4}')" \
    "recomp=$(get recomp_algorithm) policy=$(get recompress_policy) streams=$(get max_comp_streams)"
}
state_before=$(snapshot)
echo "guest: state: $state_before"
# The snapshot sees a change: root's own mem_limit write shows, and undone it is gone again.
call SetAttribute "{\"id\": $id, \"name\": \"mem_limit\", \"value\": \"32M\"}" >/dev/null || bad "root could not set mem_limit"
[ "$(snapshot)" != "$state_before" ] || bad "the state snapshot does not show root's mem_limit change"
call SetAttribute "{\"id\": $id, \"name\": \"mem_limit\", \"value\": \"0\"}" >/dev/null || bad "root could not reset mem_limit"
[ "$(snapshot)" = "$state_before" ] || bad "the state snapshot differs after root undid its change: $(snapshot)"

# I/O on the device for the whole test: 4 MiB rewritten and read back at 32 MiB, in a loop.
head -c 4194304 /tmp/data >/tmp/io-data
io_load() {
  rounds=0
  while [ ! -f /tmp/io-stop ]; do
    dd if=/tmp/io-data of=$dev bs=1M seek=32 conv=fsync 2>/dev/null || { echo "write failed" >/tmp/io-error; break; }
    echo 1 >/proc/sys/vm/drop_caches
    dd if=$dev bs=1M skip=32 count=4 2>/dev/null | cmp -s - /tmp/io-data || { echo "read back wrong in round $rounds" >/tmp/io-error; break; }
    rounds=$((rounds + 1))
    echo $rounds >/tmp/io-rounds
  done
}
rm -f /tmp/io-stop /tmp/io-error
io_load &
io=$!

# probes_until FILE PHASE: root reads and writes, each answered within PROMPT_MS, until FILE
# exists; the slowest of the phase is printed.
probes_until() {
  rm -f /tmp/probes-phase.log
  while [ ! -f "$1" ]; do
    $R probe $PROMPT_MS "{\"method\":\"$IFACE.GetAttributes\",\"parameters\":{\"id\":$id}}" >>/tmp/probes-phase.log
    $R probe $PROMPT_MS "{\"method\":\"$IFACE.SetAttribute\",\"parameters\":{\"id\":$id,\"name\":\"mem_limit\",\"value\":\"0\"}}" >>/tmp/probes-phase.log
    sleep 0.2
  done
  echo "guest: root during the $2: $(grep -c '^hostile-client:' /tmp/probes-phase.log) calls, the slowest" \
    "answered in $(sed -n 's/.*probe \([0-9]*\) ms.*/\1/p' /tmp/probes-phase.log | sort -n | tail -1) ms"
  cat /tmp/probes-phase.log >>/tmp/probes.log
}

# 1. Thousands of connections: 1500 from each of two users, held open while root calls.
rm -f /tmp/hold
$U connections 1500 /tmp/hold >/tmp/conn-1000.log 2>&1 &
c1=$!
hostile-client --uid 1001 $SOCK connections 1500 /tmp/hold >/tmp/conn-1001.log 2>&1 &
c2=$!
i=0
until grep -q 'asked' /tmp/conn-1000.log && grep -q 'asked' /tmp/conn-1001.log; do
  [ $i -lt 1200 ] || bad "the connection floods did not finish opening in 120 s"
  sleep 0.1; i=$((i + 1))
done
(sleep 5; touch /tmp/hold) &
probes_until /tmp/hold "connection flood"
wait $c1; r1=$?
wait $c2; r2=$?
cat /tmp/conn-1000.log /tmp/conn-1001.log | sed 's/^/guest: uid 1000\/1001 /'
[ $r1 = 0 ] && [ $r2 = 0 ] || bad "a connection flood saw a connection hang or dropped (exit $r1 $r2)"
alive || bad "the daemon died in the connection flood"

# 2. Garbage, oversized, half-sent, never-read and vanishing clients at once, as a user.
rm -f /tmp/flood-done
(
  $U truncated 200 8 &
  t=$!
  $U noreader 100000 8 &
  n=$!
  $U garbage 300
  $U oversized 1100000
  $U vanish 400
  $U deep closed 100000
  $U pad InvalidParameter 1000000
  wait $t
  wait $n
  touch /tmp/flood-done
) >/tmp/flood.log 2>&1 &
probes_until /tmp/flood-done "flood of bad clients"
sed 's/^/guest: /' /tmp/flood.log
[ "$(grep -c '^hostile-client: ok:' /tmp/flood.log)" = 7 ] || bad "the flood's clients did not all see what they should"
alive || bad "the daemon died in the flood"

# 3. Wrong types, unknown methods and fields, malformed messages, and every state change a user
# might try. WHO|EXPECT|MESSAGE; EXPECT as hostile-client's send takes it.
M='"method":"io.trueno.zram'
cases=0
while IFS='|' read -r who expect message; do
  [ -n "$who" ] || continue
  case $who in
    root) client=$R ;;
    user) client=$U ;;
    nobody) client="hostile-client --uid 65534 $SOCK" ;;
  esac
  $client send "$expect" "$message" >>/tmp/cases.log 2>&1 || echo "guest: as $who: $(tail -1 /tmp/cases.log)"
  cases=$((cases + 1))
done <<EOF
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":"abc"}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":1e99}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":-1}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":0}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":18446744073709551615}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":[[[[1048576]]]]}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":{"size":1048576}}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":true}}
root|InvalidParameter|{$M.CreateDevice","parameters":{}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":1048576,"colour":"red"}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":1048576,"id":-2}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":1048576,"id":1e99}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":1048576,"id":4294967296}}
root|DeviceExists|{$M.CreateDevice","parameters":{"size":1048576,"id":$id}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":1048576,"algorithm":"no-such-codec"}}
root|InvalidParameter|{$M.CreateDevice","parameters":{"size":1048576,"algorithm":["lz4"]}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":1048576,"streams":100000}}
root|InvalidArgument|{$M.CreateDevice","parameters":{"size":1048576,"mem_limit":-5}}
root|InvalidArgument|{$M.RemoveDevice","parameters":{"id":-1}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":1e99}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":"$id"}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":[$id]}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":true}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":$id.0}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":null}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{}}
root|InvalidParameter|{$M.RemoveDevice","parameters":{"id":$id,"force":true}}
root|InvalidArgument|{$M.RemoveDevice","parameters":{"id":2147483648}}
root|NoSuchDevice|{$M.RemoveDevice","parameters":{"id":12345}}
root|InvalidParameter|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":5}}
root|InvalidParameter|{$M.SetAttribute","parameters":{"id":$id,"name":["mem_limit"],"value":"1M"}}
root|InvalidParameter|{$M.SetAttribute","parameters":{"id":$id,"name":"","value":"1M"}}
root|InvalidParameter|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit"}}
root|InvalidParameter|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":"1M","also":1}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":"abc"}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":"99999999999999999999999"}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"no_such_attribute","value":"1"}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"mm_stat","value":"1"}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"reset","value":"0"}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"reset","value":"yes"}}
root|DeviceBusy|{$M.SetAttribute","parameters":{"id":$id,"name":"disksize","value":"1G"}}
root|InvalidArgument|{$M.SetAttribute","parameters":{"id":$id,"name":"recompress_policy","value":"banana"}}
root|error|{$M.SetAttribute","parameters":{"id":$id,"name":"recomp_algorithm","value":"algo=no-such-codec"}}
root|MethodNotFound|{$M.DeleteEverything"}
root|closed|{$M.ListDevices","parameters":[]}
user|ok|{$M.ListDevices"}
user|ok|{$M.GetAttributes","parameters":{"id":$id}}
user|ok|{$M.GetDaemonInfo"}
user|ok|{"method":"org.varlink.service.GetInfo"}
user|ok|{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.trueno.zram"}}
user|InvalidParameter|{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":5}}
user|InvalidArgument|{$M.GetAttributes","parameters":{"id":-1}}
user|InvalidParameter|{$M.GetAttributes","parameters":{"id":1e99}}
user|InvalidParameter|{$M.GetAttributes","parameters":{"id":"abc"}}
user|NoSuchDevice|{$M.GetAttributes","parameters":{"id":777}}
user|InvalidParameter|{$M.ListDevices","parameters":{"all":true}}
user|MethodNotFound|{$M.Nope"}
user|MethodNotFound|{$M.removedevice","parameters":{"id":$id}}
user|InterfaceNotFound|{"method":"com.example.Evil"}
user|InterfaceNotFound|{$M.RemoveDevice.Now","parameters":{"id":$id}}
user|MethodNotImplemented|{$M.RemoveDevice","parameters":{"id":$id},"upgrade":true}
user|closed|
user|closed|{}
user|closed|[]
user|closed|null
user|closed|"io.trueno.zram.ListDevices"
user|closed|{"method":5}
user|closed|{"method":"ListDevices"}
user|closed|{$M."}
user|closed|{"method":".ListDevices"}
user|closed|{$M.ListDevices","parameters":"id=0"}
user|closed|{$M.ListDevices","oneway":"yes"}
user|closed|{$M.ListDevices"
user|closed|{$M.ListDevices"}}
user|PermissionDenied|{$M.CreateDevice","parameters":{"size":1048576}}
user|PermissionDenied|{$M.CreateDevice","parameters":{"size":"abc"}}
user|PermissionDenied|{$M.CreateDevice","parameters":{"size":1048576,"id":$id}}
user|PermissionDenied|{$M.RemoveDevice","parameters":{"id":$id}}
user|PermissionDenied|{$M.RemoveDevice","parameters":{"id":-1}}
user|PermissionDenied|{$M.RemoveDevice","parameters":{"id":$id},"more":true}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":"1M"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"recompress_policy","value":"balanced"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"recomp_algorithm","value":"algo=zstd priority=1"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"reset","value":"1"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"compact","value":"1"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"idle","value":"all"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_used_max","value":"0"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"disksize","value":"1G"}}
user|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"recompress","value":"type=huge"}}
user|error|{$M.ListDevices",$M.RemoveDevice","parameters":{"id":$id}}
user|silent|{$M.RemoveDevice","parameters":{"id":$id},"oneway":true}
user|silent|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":"1M"},"oneway":true}
nobody|PermissionDenied|{$M.RemoveDevice","parameters":{"id":$id}}
nobody|PermissionDenied|{$M.SetAttribute","parameters":{"id":$id,"name":"mem_limit","value":"1M"}}
EOF
wrong=$(grep -c 'WRONG' /tmp/cases.log)
echo "guest: $cases calls of wrong types, unknown methods and fields, malformed, and state changes by users; $wrong answered wrongly"
[ "$(grep -c '^hostile-client: ok:' /tmp/cases.log)" = $cases ] || bad "$wrong of $cases calls were not answered as they should be"
alive || bad "the daemon died in the malformed calls"

# Afterwards: root answered promptly throughout, and still is.
$R probe $PROMPT_MS "{\"method\":\"$IFACE.ListDevices\"}" >>/tmp/probes.log
probes=$(grep -c '^hostile-client:' /tmp/probes.log)
slowest=$(sed -n 's/.*probe \([0-9]*\) ms.*/\1/p' /tmp/probes.log | sort -n | tail -1)
echo "guest: $probes root calls during and after the floods, the slowest answered in $slowest ms"
grep WRONG /tmp/probes.log | head -5 | sed 's/^/guest: /'
[ "$(grep -c '^hostile-client: ok:' /tmp/probes.log)" = "$probes" ] && [ "$probes" -ge 10 ] ||
  bad "root's calls were not all answered within $PROMPT_MS ms"

touch /tmp/io-stop
wait $io
[ ! -f /tmp/io-error ] || bad "I/O during the floods: $(cat /tmp/io-error)"
echo "guest: $(cat /tmp/io-rounds 2>/dev/null || echo 0) rounds of 4 MiB written and read back during the floods"
[ "$(cat /tmp/io-rounds 2>/dev/null || echo 0)" -ge 1 ] || bad "no I/O completed during the floods"

alive || bad "the daemon is gone"
state_after=$(snapshot)
[ "$state_after" = "$state_before" ] || bad "the device's state changed: $state_before -> $state_after"
drop_caches
sum_after=$(head -c 16777216 $dev | md5sum | cut -d' ' -f1)
echo "guest: data md5 before $sum_before, after $sum_after"
[ "$sum_after" = "$sum_before" ] || bad "the data on $dev changed"
grep -iE 'critical|terminate|failed' /tmp/zramd.log | head -5 | sed 's/^/guest: daemon: /'
echo "guest: daemon log: $(grep -c 'closing client' /tmp/zramd.log) closings for malformed messages," \
  "$(grep -c 'refus' /tmp/zramd.log) lines about refused connections"
stop_daemon || bad "the daemon did not stop on SIGTERM"
echo "guest: the test took $(($(cut -d. -f1 /proc/uptime) - began)) s"
pass $name
