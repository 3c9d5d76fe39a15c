#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 420
#
# Torture every lock policy in the guest: a 4-vCPU guest pinned to one
# host CPU (4x oversubscribed, so vCPUs are preempted holding and waiting
# for locks), every policy at once for 40 s (PVLI_TORTURE_S; the long
# suite's lock-torture-long.sh: 300 s) on separate locks with
# random section lengths.  Each must show 0 mutual-exclusion violations,
# every thread must get its lock, and the run must end (a halted waiter
# that is never kicked is a hang the harness reports).  Then:
# - the harness must know exactly the policies of the one list the
#   benches read (guest/tools/lock-policies), besides its broken lock;
# - the deliberately broken lock must be caught (violations > 0, exit 1);
# - every contended lock must show a bypass (max_bypass > 0: waiters saw
#   others take the lock), or the harness's bypass count is broken;
# - with no page (channel off) shfl-pv and shfl-quota must stay correct
#   and take no channel-driven action: no halt, no shuffle, no urgency
#   (without a page they are ShflLock, which steals past no queue).
. "$(dirname "$0")/lib.sh"

secs=${PVLI_TORTURE_S:-40}

need_root
start_pvlockd
CHECK=$PVLI_SRC/tests/helpers/bench-check.py
ALL=$(all_policies)

out=$(vm torture --smp 4 --host-cpus 0 --channel on --timeout $((secs + 300)) --run "
	modprobe pvlockinfo_test || exit 10
	# Let the driver see the page before the run starts.
	for i in \$(seq 50); do grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
	grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status || { echo 'no channel after 5 s'; exit 11; }
	# The harness names the policies it knows when it refuses one.
	pvlock-bench -p no-such-policy -d 100 2>&1 |
		sed -n 's/.*unknown policy .no-such-policy. (\(.*\)).*/harness-policies=\1/p'
	pvlock-bench -p broken -d 1000; echo broken-rc=\$?
	pvlock-bench -T -p $ALL -c 5000 -n 5000 -d $((secs * 1000)); echo torture-rc=\$?
") || fail "guest run failed (exit $?): $out"
echo "$out"

harness=$(echo "$out" | sed -n 's/^harness-policies=//p')
[ -n "$harness" ] || fail "the harness did not list its policies when refusing an unknown one"
expect_eq "the harness's policies besides broken (sorted)" \
	"$(tr -d ' ' <<<"$harness" | tr , '\n' | grep -vx broken | sort | paste -sd, -)" \
	"$(tr , '\n' <<<"$ALL" | sort | paste -sd, -)"
echo "$out" | matches '^broken-rc=1$' || fail "pvlock-bench did not fail on the broken lock"
echo "$out" | grep '"policy":"broken"' | matches '"violations":[1-9]' ||
	fail "the broken lock showed no violation: the check cannot fail"
echo "$out" | matches '^torture-rc=0$' || fail "torture run failed"
echo "$out" | grep -v '"policy":"broken"' |
	python3 "$CHECK" --policies=$ALL --channel=yes --min-ms=$((secs * 1000)) --positive=max_bypass ||
	fail "torture results"

out=$(vm nopage --smp 4 --host-cpus 0 --channel off --timeout 120 --run "
	modprobe pvlockinfo_test || exit 10
	pvlock-bench -T -p shfl-pv,shfl-quota -c 5000 -n 5000 -d 20000; echo rc=\$?
") || fail "guest run without page failed (exit $?): $out"
echo "$out"
echo "$out" | matches '^rc=0$' || fail "no-page run failed"
# A head still turns URGENT without a page (the bound must hold against
# test-and-set waiters, which steal page or no page); here nobody can
# steal past it, so that is all URGENT does.
echo "$out" | python3 "$CHECK" --policies=shfl-pv,shfl-quota --channel=no --min-ms=20000 \
	--zero=halts,kicks,shuffles,holder_preempted ||
	fail "without a page shfl-pv/shfl-quota did something only the channel justifies"
note "all policies correct under 4x oversubscription; no page = plain shfl"
