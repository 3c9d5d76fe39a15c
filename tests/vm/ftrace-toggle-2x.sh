#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: long
# timeout: 480
#
# The takeover's removal crash without the takeover: plain ftrace patching
# the same call sites under the same load, 4 vCPUs on two host CPUs (2x,
# multi-threaded TCG).  The guest runs the load of the transition tests
# (lock-load-lib.sh) and meanwhile, for SECS seconds (FT_SECONDS, [300]),
# moves the function tracer's filter back and forth between the ten
# spinlock functions the takeover replaces plus
# native_queued_spin_lock_slowpath() and one cold function (vfs_fsync):
# every move is one text_poke_bp() batch that patches those eleven call
# sites from a 5-byte nop to a call or back, as the takeover's apply and
# remove do.  Nothing of the takeover is loaded.  Checked: the guest
# survives, every filter write succeeds, the load survives with 0
# mutual-exclusion violations, the console is clean.  Without QEMU patch
# 0006, QEMU's cross-modifying-code race killed the guest about once in
# 600 cycles (README, Known problems: "Oops: int3" at a call site whose
# int3 is no longer in memory); should that come back, it fails and
# names the cycle and the site.  Prints the number of cycles.  FT_HOST_CPUS
# pins the vCPUs elsewhere by hand ("0": 4x, one host CPU) [0-1].
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lock-load-lib.sh"

SECS=${FT_SECONDS:-300}
HOST_CPUS=${FT_HOST_CPUS:-0-1}
FUNCS="_raw_spin_lock _raw_spin_unlock _raw_spin_lock_irqsave _raw_spin_unlock_irqrestore
_raw_spin_lock_irq _raw_spin_unlock_irq _raw_spin_lock_bh _raw_spin_unlock_bh
_raw_spin_trylock _raw_spin_trylock_bh native_queued_spin_lock_slowpath"
# An empty filter would trace (and patch) every function: park it here.
IDLE=vfs_fsync

start_pvlockd

out=$(vm ftrace-toggle --smp 4 --host-cpus "$HOST_CPUS" --channel on --timeout $((SECS + 120)) --run "
$LOAD_START"'
t=/sys/kernel/tracing
echo 0 >$t/tracing_on	# the patching is the point, not the trace
# By index (its line in available_filter_functions), not by name: a name
# is matched against every function of the kernel, seconds under TCG.
sites=$(grep -n -x -E "'"$(echo $FUNCS | tr ' ' '|')"'" $t/available_filter_functions | cut -d: -f1)
idle=$(grep -n -x '"$IDLE"' $t/available_filter_functions | cut -d: -f1)
echo $idle >$t/set_ftrace_filter || exit 11
echo function >$t/current_tracer || exit 11
end=$(($(date +%s) + '"$SECS"'))
c=0
while [ $(date +%s) -lt $end ]; do
	c=$((c + 1))
	echo "ftrace-toggle: cycle $c" >/dev/kmsg
	echo $sites >$t/set_ftrace_filter || echo "cycle $c on failed"
	[ $c = 1 ] && echo "filter: $(grep -c . $t/set_ftrace_filter) functions"
	echo $idle >$t/set_ftrace_filter || echo "cycle $c off failed"
done
echo nop >$t/current_tracer
echo "cycles done: $c"
'"$LOAD_STOP")
rc=$?
echo "$out"
console=$PVLI_LOGDIR/ftrace-toggle.console
if tr -d '\r' <"$console" | matches 'Oops'; then
	at=$(tr -d '\r' <"$console" | grep -m1 'RIP: 0010:' | sed 's/.*RIP: 0010://')
	cycle=$(tr -d '\r' <"$console" | grep -B300 -m1 'Oops' | grep -o 'ftrace-toggle: cycle [0-9]*' | tail -n1)
	fail "the guest oopsed ($(tr -d '\r' <"$console" | grep -m1 -o 'Oops: [a-z0-9]*') at $at) in ${cycle#ftrace-toggle: }"
fi
[ $rc -eq 0 ] || fail "guest run failed (exit $rc)"
expect_eq "functions in the filter" "$(echo "$out" | sed -n 's/^filter: \([0-9]*\) functions$/\1/p')" 11
cycles=$(echo "$out" | sed -n 's/^cycles done: //p')
[ "${cycles:-0}" -gt 0 ] || fail "no cycle completed"
expect_eq "filter writes that failed" "$(echo "$out" | grep -c '^cycle [0-9]* o[nf]* failed')" 0
check_load ftrace-toggle "$out" 2
note "$cycles cycles ($((cycles * 2)) patches of the eleven sites) in $SECS s on host CPUs $HOST_CPUS"
