#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 420
#
# libpvlock in a guest, through /dev/pvlockinfo: a 4-vCPU guest on one
# host CPU (vCPUs preempted at random by the host), more threads than
# vCPUs (threads descheduled by the guest).
# - the device: read-only (a writable open, a writable mapping and
#   mprotect to write all fail), the scheduler view names the reader on
#   its CPU, the host page mapped through it is the live page;
# - libpvlock picks both levels with the channel, the guest level when
#   the host page is not there, the futex level without the module;
# - pvlock-stress under LD_PRELOAD for 60 s at both levels: threads and
#   forks on mutexes, a spinlock and condition variables: no violation,
#   no stalled or unfinished thread (a lost wake-up), no failed child,
#   and the pv paths ran (blocks for descheduled holders at both levels);
# - the probe costs nothing once the last user closed the device.
. "$(dirname "$0")/lib.sh"

need_root
start_pvlockd
P=/usr/lib/libpvlock-preload.so

out=$(vm stress --smp 4 --host-cpus 0 --channel on --timeout 360 --run "
	modprobe pvlockinfo || exit 10
	for i in \$(seq 50); do grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
	grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status || { echo 'no channel after 5 s'; exit 11; }
	pvli-devcheck; echo devcheck-rc=\$?
	echo level=\$(PVLOCK_DEBUG=1 LD_PRELOAD=$P pvlock-mutexbench -d 10 -t 1 2>&1 >/dev/null)
	LD_PRELOAD=$P pvlock-stress -d 60 -t 9; echo stress-rc=\$?
	grep user_view /sys/kernel/debug/pvlockinfo/status
") || fail "guest run failed (exit $?): $out"
echo "$out"
echo "$out" | matches '^devcheck-rc=0$' || fail "the device check failed"
echo "$out" | matches '^level=libpvlock: level both$' || fail "libpvlock did not use both levels"
echo "$out" | matches '^stress-rc=0$' || fail "the stress run failed"
j=$(echo "$out" | grep '"bench":"stress"') || fail "no stress result"
python3 - "$j" <<'PY' || fail "stress result"
import json, sys
r = json.loads(sys.argv[1])
bad = [k for k in ("violations", "stalled", "unfinished", "child_failures") if r[k]]
assert not bad, f"nonzero: {bad}"
assert r["pass"] and r["forks"] > 0 and r["pvlock_loaded"], r
assert r["holder_off_host"] > 0, "no waiter ever saw a holder's vCPU preempted"
assert r["holder_off_guest"] > 0, "no waiter ever saw a holder thread descheduled"
print(f"# {r['ops']} operations, {r['forks']} forks, {r['blocks']} blocks "
      f"({r['holder_off_host']} host, {r['holder_off_guest']} guest), {r['bypasses']} bypasses")
PY
echo "$out" | matches 'user_view: 0 open, sched_switch probe off' ||
	fail "the probe stayed registered after the last user closed the device"

# Without the host page: the guest's view alone; without the module: futex.
out=$(vm nopage --smp 2 --channel off --timeout 120 --run "
	modprobe pvlockinfo || exit 10
	echo level=\$(PVLOCK_DEBUG=1 LD_PRELOAD=$P pvlock-mutexbench -d 10 -t 1 2>&1 >/dev/null)
	LD_PRELOAD=$P pvlock-stress -d 10 -t 5; echo stress-rc=\$?
	rmmod pvlockinfo
	echo nomod=\$(PVLOCK_DEBUG=1 LD_PRELOAD=$P pvlock-mutexbench -d 10 -t 1 2>&1 >/dev/null)
	LD_PRELOAD=$P pvlock-stress -d 5 -t 5; echo stress2-rc=\$?
") || fail "guest run without page failed (exit $?): $out"
echo "$out"
echo "$out" | matches '^level=libpvlock: level guest' || fail "without a page libpvlock did not use the guest level"
echo "$out" | matches '^nomod=libpvlock: level futex: no /dev/pvlockinfo' || fail "without the module libpvlock did not fall back to futex"
echo "$out" | matches '^stress-rc=0$' || fail "the stress run at the guest level failed"
echo "$out" | matches '^stress2-rc=0$' || fail "the stress run at the futex level failed"
note "libpvlock: correct at every level; the device is read-only"
