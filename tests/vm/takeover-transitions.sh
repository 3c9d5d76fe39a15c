#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# The kernel-spinlock takeover applied, switched, re-policied and removed
# WHILE a kernel-lock-heavy load runs, 4 vCPUs on one host CPU (4x).  The
# same on two host CPUs (2x) is takeover-transitions-2x.sh, also in suite
# check since QEMU patch 0006: before it, multi-threaded TCG now and then
# executed a stale translation of a call site that ftrace had just
# patched ("Oops: int3" at _raw_spin_lock_irqsave+0x5 on two vCPUs at
# once), a race of QEMU that plain ftrace patching of the same sites hit
# too (ftrace-toggle-2x.sh; README, Known problems).  The load (lock-load-lib.sh): 8 shells forking,
# exec'ing, piping and reading /proc, and the in-kernel harness hammering
# one spinlock_t from a kthread per vCPU (pvlock-bench -p native,
# spin_lock()) back to back, 1 s runs, each checking mutual exclusion.
# Meanwhile CYCLES (6) cycles of: pvli-takeover apply, policy tas-pv,
# policy shfl-pv, irqs-off halts on (waiters whose interrupts are off
# halt too, woken by NMI kicks), off, on, remove, with irqs-off halts
# turned off again before the remove in odd cycles and after it in even
# ones (so both orders meet the remove); cycles 1, 4 with the direct
# entry, 2, 5 with the slowpath entry (only the contended path
# redirected; the uncontended paths and every release stay the kernel's,
# so a lock can be taken by ours and released by theirs), 3, 6 with the
# default, adaptive (up at the apply, down at the switch-off, which
# unnames and unregisters under the load, up again when steal allows).
# Checked:
#  - every apply and remove succeeds, with the entry asked for, and the
#    takeover is live after each apply; ftrace has hooked the ten
#    spinlock functions and the slow path (direct) or only the slow
#    path (slowpath), and the vCPUs publish their kernel hold depth to
#    the host (direct) or claim none (slowpath, which counts none);
#  - the replacements ran in every cycle (contended waits counted);
#    waiters halted with interrupts off in the direct cycles, and no such
#    halt needed the watchdog (nmi_rescues 0: no kick was lost);
#  - every harness run completed with 0 mutual-exclusion violations,
#    including the runs that straddle an apply or a remove;
#  - no hold depth is left on any CPU at a remove (no drift across the
#    old/new code mix) and no lock named by one CPU was released on
#    another (module parameter foreign);
#  - the load is still running at the end; the runner's scan of the
#    console (BUG, WARNING, lockdep, RCU stall, soft lockup) is clean;
#  - each apply completes within APPLY_BOUND_US (measured by the module
#    from its init to the last function switched; see README).
# Prints the apply and remove times (max and median) per configuration.
# TK_CYCLES overrides the number of cycles (a longer soak by hand);
# TK_CONFIGS the configurations, "HOST-CPUS:TAG ..." [0:4x].
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lock-load-lib.sh"

# Measured on the 2-core test machine under TCG (README), 5 cycles each:
# with this load an apply took at most 3.0 s (medians 2.1-2.2 s) at 4x
# and 1.9 s (0.9-1.0 s) at 2x, most of it the check for another IPMODIFY
# user (one ftrace registration and its RCU-tasks waits).  The bound
# leaves five times that for a slow, shared host.
APPLY_BOUND_US=15000000
CYCLES=${TK_CYCLES:-6}

start_pvlockd

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

run_one() { # host CPUs, tag
	local cpus=$1 tag=$2 out
	out=$(vm "transitions-$tag" --smp 4 --host-cpus "$cpus" --channel on --timeout 300 --run "$LOAD_START"'
p=/sys/module/pvlockinfo_takeover/parameters
for c in $(seq '"$CYCLES"'); do
	case $((c % 3)) in 1) e=direct ;; 2) e=slowpath ;; *) e=adaptive ;; esac
	pvli-takeover apply --entry $e; echo "cycle $c apply-rc=$? in_use=$(cat $p/in_use 2>/dev/null)"
	ef=/sys/kernel/debug/tracing/enabled_functions
	echo "cycle $c hooked fast=$(grep -c "^_raw_spin_" $ef) slow=$(grep -c "^native_queued_spin_lock_slowpath" $ef)"
	echo "cycle $c published=$(awk "NR > 1 && \$NF != \"-\"" /sys/kernel/debug/pvlockinfo/vcpus | wc -l)"
	pvli-takeover policy tas-pv; sleep 0.5
	pvli-takeover policy shfl-pv; sleep 0.5
	pvli-takeover irqsoff-halt on; sleep 0.5
	pvli-takeover off; sleep 0.5
	pvli-takeover on; sleep 0.5
	echo "cycle $c waits=$(pvli-takeover counters waits) halts=$(pvli-takeover counters halts) nmihalt=$(cat $p/irqsoff_halts) nmirescue=$(cat $p/nmi_rescues) foreign=$(cat $p/foreign)"
	[ $((c % 2)) = 1 ] && pvli-takeover irqsoff-halt off
	pvli-takeover remove; echo "cycle $c remove-rc=$? mode=$(pvli-takeover mode)"
	pvli-takeover irqsoff-halt off
done
'"$LOAD_STOP"'
dmesg | grep -E "pvlockinfo_takeover: kernel spinlocks (taken over|given back)" | sed "s/^/dmesg: /"
echo "depth-left=$(dmesg | grep -c "after the last named holder left")"
') || fail "$tag: guest run failed (exit $?): $out"
	echo "$out"

	local c e want line applies removes
	for c in $(seq $CYCLES); do
		case $((c % 3)) in 1) e=direct ;; 2) e=slowpath ;; *) e=adaptive ;; esac
		line=$(echo "$out" | grep "^cycle $c apply-rc=")
		echo "$line" | matches "apply-rc=0 in_use=$e live$" || fail "$tag: apply ($e entry) in cycle $c: $line"
		# What ftrace has hooked: the ten spinlock functions and the slow
		# path (direct, and adaptive, which starts up), or the slow path
		# alone (slowpath).
		line=$(echo "$out" | grep "^cycle $c hooked ")
		[ "$e" = slowpath ] && want=0 || want=10
		expect_eq "$tag: cycle $c ($e entry): spinlock functions and slow path hooked" \
			"$(echo "$line" | sed 's/^cycle [0-9]* hooked //')" "fast=$want slow=1"
		# The host is told of hold depths only where they are counted:
		# debugfs vcpus shows a kdepth for every vCPU under direct, "-" for
		# every one under slowpath.
		[ "$e" = slowpath ] && want=0 || want=4
		expect_eq "$tag: cycle $c ($e entry): vCPUs publishing a kernel hold depth" \
			"$(echo "$out" | sed -n "s/^cycle $c published=//p")" $want
		line=$(echo "$out" | grep "^cycle $c waits=")
		[ "$(echo "$line" | sed 's/.*waits=\([0-9]*\).*/\1/')" -gt 0 ] 2>/dev/null ||
			fail "$tag: no contended spin_lock*() went through the replacements in cycle $c: $line"
		echo "$line" | matches " foreign=0$" ||
			fail "$tag: a lock named by one CPU was released on another in cycle $c: $line"
		expect_eq "$tag: cycle $c: halts with interrupts off that no kick ended" \
			"$(echo "$line" | sed 's/.*nmirescue=\([0-9]*\).*/\1/')" 0
		if [ "$e" = direct ]; then
			[ "$(echo "$line" | sed 's/.*nmihalt=\([0-9]*\).*/\1/')" -gt 0 ] 2>/dev/null ||
				fail "$tag: no waiter halted with interrupts off in cycle $c (direct entry): $line"
		fi
		line=$(echo "$out" | grep "^cycle $c remove-rc=")
		echo "$line" | matches "remove-rc=0 mode=native$" || fail "$tag: remove in cycle $c: $line"
	done
	check_load "$tag: across $CYCLES apply/remove cycles" "$out" $((CYCLES * 2))
	# pvli_tk_quiesce() warns for every CPU whose hold depth is not 0 once
	# no lock is held under a name any more: depth drift across the mix
	# of old and new code that every apply and remove goes through.
	expect_eq "$tag: CPUs with a hold depth left at a remove" \
		"$(echo "$out" | sed -n 's/^depth-left=//p')" 0
	applies=$(echo "$out" | sed -n 's/^dmesg: .*taken over (\(direct\|slowpath\|adaptive\) entry) in \([0-9]*\) us.*/\2/p')
	removes=$(echo "$out" | sed -n 's/^dmesg: .*given back (\(direct\|slowpath\|adaptive\) entry) in \([0-9]*\) us.*/\2/p')
	local n1=0 n2=0 n0=0
	for c in $(seq $CYCLES); do eval "n$((c % 3))=\$((n$((c % 3)) + 1))"; done
	expect_eq "$tag: applies with the direct entry logged" \
		"$(echo "$out" | grep -c "^dmesg: .*taken over (direct entry)")" $n1
	expect_eq "$tag: applies with the slowpath entry logged" \
		"$(echo "$out" | grep -c "^dmesg: .*taken over (slowpath entry)")" $n2
	expect_eq "$tag: applies with the adaptive entry logged" \
		"$(echo "$out" | grep -c "^dmesg: .*taken over (adaptive entry)")" $n0
	expect_eq "$tag: applies logged" "$(echo "$applies" | grep -c .)" $CYCLES
	expect_eq "$tag: removals logged" "$(echo "$removes" | grep -c .)" $CYCLES
	note "$tag: apply max $(echo "$applies" | sort -n | tail -n 1) us, median $(echo "$applies" | median) us;" \
		"remove max $(echo "$removes" | sort -n | tail -n 1) us, median $(echo "$removes" | median) us"
	[ "$(echo "$applies" | sort -n | tail -n 1)" -le $APPLY_BOUND_US ] ||
		fail "$tag: an apply took over the bound of $APPLY_BOUND_US us: $(echo "$applies" | tr '\n' ' ')"
}

for config in ${TK_CONFIGS:-0:4x}; do
	run_one "${config%%:*}" "${config#*:}"
done
