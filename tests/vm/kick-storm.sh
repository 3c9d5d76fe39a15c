#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 150
#
# Race 1 of the lock core's kick/halt races: the kick
# (shfl_kick_untraced(), guest/lock/shim_kernel.c) queues one
# call_single_data per target CPU with smp_call_function_single_async(),
# whose callers must be serialised per csd: its CSD_FLAG_LOCK test and set
# are two plain accesses.  Two CPUs kicking the same CPU could queue the
# csd twice, linking it to itself: the target's IPI handler then loops
# with interrupts off (hard lockup) or drops the calls queued with it.
# The kick's claim bit serialises them: only the kicker that sets it
# queues the csd, and the IPI's handler clears it.  Without the claim
# (send_kick() queueing unconditionally) this test fails within seconds:
# "pvli_kick_storm: FAIL: CPU 3 stopped answering cross-CPU calls", an
# RCU stall with CPU 3 in __sysvec_call_function_single.
#
# A 4-vCPU TCG guest loads pvli_kick_storm.ko: three vCPUs kick the fourth
# as fast as they can for 10 s while the loading task checks that the
# target keeps answering a cross-CPU call on a csd of its own.  The
# module's verdict must be PASS (about 20 s in all).  The guest's shell
# stays on vCPU 0; if the load has not returned 30 s after the storm (a
# failed load waits for an RCU grace period the wedged target never ends)
# the shell dumps every CPU's stack and the blocked tasks (sysrq l, w) for
# the log.  The runner also scans the console for lockups and stalls.
. "$(dirname "$0")/lib.sh"

out=$(vm kick-storm --smp 4 --timeout 120 --run "
	taskset -p -c 0 \$\$ >/dev/null
	echo 1 >/proc/sys/kernel/sysrq
	modprobe pvlockinfo || exit 10
	modprobe pvli_kick_storm seconds=10 &
	storm=\$!
	for i in \$(seq 400); do kill -0 \$storm 2>/dev/null || break; sleep 0.1; done
	if kill -0 \$storm 2>/dev/null; then
		echo storm-rc=hung
		echo l >/proc/sysrq-trigger; echo w >/proc/sysrq-trigger; sleep 2
		dmesg | sed -n '/pvli_kick_storm: FAIL/,\$p' | head -150
	else
		wait \$storm; echo storm-rc=\$?
	fi
	dmesg | grep -E 'pvli_kick_storm|rcu: INFO|LOCKUP|lockup|hung_task'
	grep -E '^ +CPU|CAL:' /proc/interrupts
")
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "guest run failed or hung (exit $rc)"
echo "$out" | matches 'pvli_kick_storm: target CPU' || fail "the storm did not run"
echo "$out" | matches '^storm-rc=0$' || fail "the storm's target stopped answering (see above)"
if echo "$out" | grep -E -q 'rcu: INFO|LOCKUP|lockup|hung_task'; then
	fail "the guest kernel reported a stall or lockup"
fi
note "the target answered every cross-CPU call through the storm"
