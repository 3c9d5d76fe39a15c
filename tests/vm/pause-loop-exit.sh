#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 200
#
# pvlock-qemu --pause-loop-exit (QEMU patch 0008's x-pause-loop-exit-ns):
# a vCPU spinning in a PAUSE loop for that long yields its host CPU, as
# KVM's pause-loop exiting does.  4 vCPUs on one host CPU spin on the
# guest's own test-and-set lock (pvlock-bench -p native: every waiter
# loops on cpu_relax()).  The vCPU threads must call sched_yield() with
# a 2000 ns window, never with a window no spin reaches (so the window
# counts), and never without the option (stock TCG's PAUSE leaves the
# execution loop instead), counted by the host kernel's syscall
# tracepoint; the lock must stay exclusive each time.  Bad values, from
# the option or the environment, and KVM are refused before anything
# starts.
. "$(dirname "$0")/lib.sh"
need_root
command -v perf >/dev/null || skip "perf is missing (./configure installs linux-perf)"
perf list syscalls:sys_enter_sched_yield 2>/dev/null | matches sys_enter_sched_yield ||
	skip "the host kernel has no syscalls:sys_enter_sched_yield tracepoint"

# ---- refused up front -------------------------------------------------------------
for bad in x -1 4294967296 99999999999; do
	msg=$("$WRAPPER" --pause-loop-exit "$bad" --run true 2>&1)
	expect_eq "exit status of --pause-loop-exit $bad" $? 2
	echo "$msg" | matches "pause-loop-exit '$bad': nanoseconds" || fail "no clear error for '$bad': $msg"
done
msg=$(PVLI_PAUSE_LOOP_EXIT=soon "$WRAPPER" --run true 2>&1)
expect_eq "exit status with PVLI_PAUSE_LOOP_EXIT=soon" $? 2
echo "$msg" | matches 'PVLI_PAUSE_LOOP_EXIT (the environment)' || fail "the error does not name the environment: $msg"
. "$PVLI_SRC/host/kvm-usable.sh"
kvm_probe
if [ "$kvm_usable" = yes ]; then
	msg=$("$WRAPPER" --pause-loop-exit 2000 --accel kvm --run true 2>&1)
	expect_eq "exit status of --pause-loop-exit under KVM" $? 2
	echo "$msg" | matches "a pause-loop exit is for TCG" || fail "no clear refusal under KVM: $msg"
	[ "$(sed -n 's/^PVLI_ACCEL_DEFAULT=//p' "$PVLI_BUILD/vm.env")" = tcg ] ||
		skip "guests run under KVM here, whose processor has its own pause-loop exiting"
else
	note "KVM is not usable here ($kvm_why): the refusal under KVM is not exercised"
fi

# yields NAME [OPTIONS...]: the guest spins on 4 vCPUs on host CPU 0;
# sets $count to the vCPU threads' sched_yield calls over 2 s of it, and
# fails unless the bench ran with 0 violations.  Runs in this shell, so
# that a failure's exit trap stops the VM.
yields() {
	local name=$1 vmname=t-$1-$$ pid vp
	shift
	vm "$name" --smp 4 --host-cpus 0 --timeout 120 "$@" --run "
modprobe pvlockinfo_test || exit 10
echo spinning-now >/dev/kmsg
pvlock-bench -p native -t 4 -d 8000 | grep -o '\"violations\":[0-9]*'" >"$PVLI_LOGDIR/$name.out" 2>&1 &
	vp=$!
	at_exit "kill $vp 2>/dev/null; wait $vp 2>/dev/null"
	# The run directory's console.log is the live one (--console-log is
	# a copy kept when the VM ends).
	wait_for "/run/pvlockinfo/qemu/$vmname/console.log" spinning-now 90 ||
		fail "$name: the guest did not start spinning"
	pid=$(cat "/run/pvlockinfo/qemu/$vmname/qemu.pid") || fail "$name: no QEMU pid"
	sleep 1
	count=$(perf stat -x, -e syscalls:sys_enter_sched_yield -p "$pid" -- sleep 2 2>&1 |
		awk -F, '/sched_yield/ { print $1 }')
	wait $vp || fail "$name: guest run failed: $(cat "$PVLI_LOGDIR/$name.out")"
	matches '"violations":0' "$PVLI_LOGDIR/$name.out" ||
		fail "$name: the lock was not exclusive: $(cat "$PVLI_LOGDIR/$name.out")"
	[[ "$count" =~ ^[0-9]+$ ]] || fail "$name: perf stat gave no count: '$count'"
}

count=
yields ple-on --pause-loop-exit 2000
on=$count
yields ple-off --pause-loop-exit 0
off=$count
# A window no spin reaches: a vCPU thread that loses its host CPU (every
# few ms, among four) starts its loop again, so 4.3 s never pass.
yields ple-long --pause-loop-exit 4294967295
long=$count
note "sched_yield calls of the vCPU threads in 2 s of spinning: $on with --pause-loop-exit 2000, $long with 4294967295, $off without"
[ "$on" -gt 0 ] || fail "with --pause-loop-exit 2000 the spinning vCPUs never yielded"
expect_eq "sched_yield calls with a window no spin reaches" "$long" 0
expect_eq "sched_yield calls without a pause-loop exit" "$off" 0
