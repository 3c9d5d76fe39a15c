#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 420
#
# Torture every lock policy in the guest: a 4-vCPU guest pinned to one
# host CPU (4x oversubscribed, so vCPUs are preempted holding and waiting
# for locks), all six policies at once for 60 s on separate locks with
# random section lengths.  Each must show 0 mutual-exclusion violations,
# every thread must get its lock, and the run must end (a halted waiter
# that is never kicked is a hang the harness reports).  Then:
# - the deliberately broken lock must be caught (violations > 0, exit 1);
# - with no page (channel off) shfl-pv and shfl-quota must stay correct
#   and take no channel-driven action: no halt, no shuffle, no yield.
. "$(dirname "$0")/lib.sh"

need_root
start_pvlockd
CHECK=$PVLI_SRC/tests/helpers/bench-check.py
ALL=native,mcs,shfl,pvspin,shfl-pv,shfl-quota

out=$(vm torture --smp 4 --host-cpus 0 --channel on --timeout 360 --run "
	modprobe pvlockinfo || exit 10
	# Let the driver see the page before the run starts.
	for i in \$(seq 50); do grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
	grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status || { echo 'no channel after 5 s'; exit 11; }
	pvlock-bench -p broken -d 1000; echo broken-rc=\$?
	pvlock-bench -T -p $ALL -c 5000 -n 5000 -d 60000; echo torture-rc=\$?
") || fail "guest run failed (exit $?): $out"
echo "$out"

echo "$out" | grep -q '^broken-rc=1$' || fail "pvlock-bench did not fail on the broken lock"
echo "$out" | grep '"policy":"broken"' | grep -q '"violations":[1-9]' ||
	fail "the broken lock showed no violation: the check cannot fail"
echo "$out" | grep -q '^torture-rc=0$' || fail "torture run failed"
echo "$out" | grep -v '"policy":"broken"' |
	python3 "$CHECK" --policies=$ALL --channel=yes --min-ms=60000 ||
	fail "torture results"

out=$(vm nopage --smp 4 --host-cpus 0 --channel off --timeout 120 --run "
	modprobe pvlockinfo || exit 10
	pvlock-bench -T -p shfl-pv,shfl-quota -c 5000 -n 5000 -d 20000; echo rc=\$?
") || fail "guest run without page failed (exit $?): $out"
echo "$out"
echo "$out" | grep -q '^rc=0$' || fail "no-page run failed"
echo "$out" | python3 "$CHECK" --policies=shfl-pv,shfl-quota --channel=no --min-ms=20000 \
	--zero=halts,kicks,shuffles,yields,holder_preempted ||
	fail "without a page shfl-pv/shfl-quota did something only the channel justifies"
note "all policies correct under 4x oversubscription; no page = plain shfl"
