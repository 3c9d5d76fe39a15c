#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# A kick must reach a waiter that halts in a softirq on an idle CPU.  The
# lock core's kick is a call_single_data IPI, and the kernel sends none
# to a CPU whose idle task polls (TIF_POLLING_NRFLAG: it sets NEED_RESCHED
# instead).  Softirqs run on top of the idle task with that flag set
# whenever an interrupt lands while the idle loop polls with interrupts
# on: always with idle=poll, and in short windows of every idle loop.  A
# lock waiter that halts there slept through its kick until the next
# interrupt: a tick, or, with the tick stopped, whatever timer came next
# (seconds), and a queue behind it with it.  Waiters do not halt there
# now (shfl_can_halt(), guest/lock/shim_kernel.h).  Before that fix this
# test failed: "pvli_idle_kick: ... 40 on a polling idle task, 40 of them
# late".
#
# A 2-vCPU TCG guest booted with idle=poll loads pvli_idle_kick.ko from
# vCPU 0: forty times, a timer softirq on the idle vCPU 1 waits for a
# word the way the lock core does, and vCPU 0 sets it and kicks.  The
# module fails the load if more than a quarter of the rounds needed a
# tick after the kick to end the wait (see guest/test/pvli_idle_kick.c).
. "$(dirname "$0")/lib.sh"

out=$(vm idle-kick --smp 2 --append idle=poll --timeout 90 --run '
	taskset -p -c 0 $$ >/dev/null
	modprobe pvlockinfo || exit 10
	taskset -c 0 modprobe pvli_idle_kick target=1
	echo idle-kick-rc=$?
	dmesg | grep pvli_idle_kick
')
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "guest run failed or hung (exit $rc)"
echo "$out" | matches 'pvli_idle_kick: target CPU' || fail "the rounds did not run"
if echo "$out" | matches 'pvli_idle_kick: SKIP'; then
	fail "the waiter did not run on a polling idle task: idle=poll not in effect?"
fi
echo "$out" | matches '^idle-kick-rc=0$' || fail "kicks to a waiter on a polling idle CPU were lost (see above)"
note "every kick reached its waiter on the polling idle CPU"
