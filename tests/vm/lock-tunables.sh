#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# The channel policies' module parameters do what the README says, seen
# in the harness's counts (not its timing), in a 4-vCPU guest on one host
# CPU with the channel on:
# - lock_spin_budget=1: newcomers queue almost at once (queued > 0), and
#   heads behind preempted holders turn urgent (urgent > 0);
# - lock_spin_budget=4294967295 with lock_park_budget=0: shfl-pv never
#   queues (queued = 0, every acquisition stolen), and no head turns
#   urgent (there is no queue);
# - lock_spin_budget=1 with lock_urgent_bypass and lock_urgent_ns at
#   their largest: queues, but no head turns urgent (urgent = 0);
# - lock_pre_kick=1 (off by default, checked): queues and excludes;
# - values out of range are refused and leave the setting as it was;
# - every run: 0 mutual-exclusion violations.
. "$(dirname "$0")/lib.sh"

need_root
start_pvlockd

out=$(vm tunables --smp 4 --host-cpus 0 --channel on --timeout 200 --run '
	P=/sys/module/pvlockinfo/parameters
	modprobe pvlockinfo_test || exit 10
	for i in $(seq 50); do grep -q "available: yes" /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
	grep -q "available: yes" /sys/kernel/debug/pvlockinfo/status || { echo "no channel after 5 s"; exit 11; }
	echo "defaults: $(cat $P/lock_spin_budget $P/lock_park_budget $P/lock_urgent_bypass $P/lock_urgent_ns $P/lock_pre_kick | tr "\n" " ")"
	run() { echo "$1: $(pvlock-bench -p shfl-pv -d 3000)"; }
	echo 1 > $P/lock_spin_budget
	run queue-at-once
	echo 4294967295 > $P/lock_spin_budget; echo 0 > $P/lock_park_budget
	run never-queue
	echo 1 > $P/lock_spin_budget; echo 4 > $P/lock_park_budget
	echo 4294967295 > $P/lock_urgent_bypass; echo 18446744073709551615 > $P/lock_urgent_ns
	run never-urgent
	echo 16 > $P/lock_urgent_bypass; echo 6000000 > $P/lock_urgent_ns
	echo 1 > $P/lock_pre_kick
	run pre-kick
	echo 0 > $P/lock_pre_kick
	echo 2 > $P/lock_pre_kick 2>/dev/null; echo "prekick-2-rc=$?"
	echo 0 > $P/lock_urgent_bypass 2>/dev/null; echo "bypass-0-rc=$?"
	echo 1025 > $P/lock_quick_spins 2>/dev/null; echo "quick-1025-rc=$?"
	echo 4294967296 > $P/lock_park_budget 2>/dev/null; echo "park-2^32-rc=$?"
	echo "after: $(cat $P/lock_urgent_bypass $P/lock_quick_spins $P/lock_park_budget $P/lock_urgent_ns $P/lock_pre_kick | tr "\n" " ")"
') || fail "guest run failed (exit $?): $out"
echo "$out"

expect_eq "defaults (spin budget, park budget, urgent bypass, urgent ns, pre-kick)" \
	"$(echo "$out" | sed -n 's/^defaults: //p')" "4096 4 16 6000000 0 "

# field NAME RUN: a field of RUN's JSON line.
field() {
	echo "$out" | sed -n "s/^$2: //p" | python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['$1'])"
}

for r in queue-at-once never-queue never-urgent pre-kick; do
	line=$(echo "$out" | sed -n "s/^$r: //p")
	[ -n "$line" ] || fail "$r: no harness result"
	expect_eq "$r: mutual-exclusion violations" "$(field violations $r)" 0
	[ "$(field acquisitions $r)" -gt 0 ] || fail "$r: no acquisitions"
done

q=$(field queued queue-at-once) u=$(field urgent queue-at-once)
[ "$q" -gt 0 ] || fail "lock_spin_budget=1: nobody queued"
[ "$u" -gt 0 ] || fail "lock_spin_budget=1: no head turned urgent ($q queued)"
echo "# lock_spin_budget=1: $q queued acquisitions, $u urgent heads"

expect_eq "never-queue: queued" "$(field queued never-queue)" 0
expect_eq "never-queue: urgent heads" "$(field urgent never-queue)" 0
expect_eq "never-queue: every acquisition stolen" "$(field stolen never-queue)" \
	"$(field acquisitions never-queue)"

q=$(field queued never-urgent)
[ "$q" -gt 0 ] || fail "never-urgent: nobody queued (lock_spin_budget=1)"
expect_eq "never-urgent: urgent heads ($q queued)" "$(field urgent never-urgent)" 0

# lock_pre_kick=1 (the successor kicked at each hand-over, off by
# default): it queues (lock_spin_budget is 1) and excludes.
[ "$(field queued pre-kick)" -gt 0 ] || fail "pre-kick: nobody queued (lock_spin_budget=1)"

for p in bypass-0 quick-1025 park-2^32 prekick-2; do
	rc=$(echo "$out" | sed -n "s/^$p-rc=//p")
	[ -n "$rc" ] && [ "$rc" != 0 ] || fail "$p: the write was accepted (rc '$rc')"
done
expect_eq "refused writes left the settings (urgent bypass, quick spins, park budget, urgent ns, pre-kick)" \
	"$(echo "$out" | sed -n 's/^after: //p')" "16 64 4 6000000 0 "
