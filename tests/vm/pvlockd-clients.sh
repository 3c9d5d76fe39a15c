#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# pvlockd's control socket against clients that misbehave: silent
# clients, a client that asks for a large status --json and never reads
# it, a client that is not root; and what a crashed pvlockd leaves: its
# socket, which pvlock-qemu --channel auto must tell from a live daemon.
# pvlockd must keep answering everybody else meanwhile; how fast (the
# target is 100 ms at most) is printed, not asserted: the machine may be
# busy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"

# Not root: refused with a reason, and the daemon lives on.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PVLOCKCTL" status 2>&1) &&
	fail "pvlockctl status as nobody succeeded: $out"
grep -qE "run as root|only root" <<<"$out" || fail "refused without saying why: $out"
"$PVLOCKCTL" status >/dev/null || fail "pvlockd stopped answering after a non-root client"
note "non-root pvlockctl: $out"

# latency_while SECS WHAT: ctl-latency for SECS s, one status every 10 ms;
# fail if any went unanswered for 5 s (pvlockd blocked on a client).
latency_while() {
	local lat
	lat=$("$CTL_LATENCY" --duration "$1" --interval 0.01 --timeout 5)
	note "answers while $2: $lat"
	[ "$(jq -r .failed <<<"$lat")" = 0 ] || fail "status requests failed while $2"
	note "longest answer while $2: $(jq -r .max_ms <<<"$lat") ms (target: < 100 ms)"
}

# 20 clients that connect and never send a request.
python3 - "$PVLOCKD_SOCK" 20 6 <<'PY' &
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    conns.append(s)
time.sleep(float(sys.argv[3]))
PY
silent=$!
sleep 0.5
latency_while 3 "20 clients were silent"
wait $silent

# A status --json of 16 VMs x 64 vCPUs, asked for and never read.
for i in $(seq 16); do
	"$PVLOCKCTL" register "big$i" 64 tcg >/dev/null || fail "register big$i failed"
done
python3 - "$PVLOCKD_SOCK" 8 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"status json\n")
time.sleep(float(sys.argv[2]))
PY
stuck=$!
sleep 0.5
latency_while 3 "a client did not read its status --json"
wait $stuck
for i in $(seq 16); do "$PVLOCKCTL" unregister "big$i" >/dev/null; done

# A pvlockd killed -9 leaves its socket: --channel auto must boot without
# the channel instead of failing the launch.
kill9_pvlockd
[ -S "$PVLOCKD_SOCK" ] || fail "expected the dead pvlockd's socket to stay for this test"
out=$(vm stale --channel auto --run 'echo ivshmem=$(grep -l 0x1110 /sys/bus/pci/devices/*/device | wc -l)' 2>&1)
rc=$?
[ $rc = 0 ] || fail "pvlock-qemu --channel auto failed with a dead pvlockd's socket (exit $rc): $out"
grep -q "^ivshmem=0$" <<<"$out" || fail "the guest did not boot without the channel: $out"
note "--channel auto with a stale socket: booted without the channel"
own_pvlockd || fail "pvlockd did not restart over its stale socket"
