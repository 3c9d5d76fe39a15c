#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# The channel end to end, 4 vCPUs on 1 pCPU (every vCPU is preempted all
# the time):
#  - every vCPU reads its own record 2.5M times (10M in all) while running
#    and must never see itself anything but RUNNING, nor fail a read;
#  - with the VM paused (QMP stop: nothing moves), the page the guest
#    reads agrees exactly with the counts the BPF program kept in its
#    private map: preemptions equal, and the record's seqlock moved once
#    per event (switch-out, switch-in, wakeup), give or take the one in
#    flight when pvlockd attached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agreement-lib.sh"

start_pvlockd
name=t-agree-$$
out=$PVLI_LOGDIR/guest.out
"$WRAPPER" -q --name "$name" --smp 4 --host-cpus 0 --channel on \
	--console-log "$PVLI_LOGDIR/agree.console" --run '
modprobe pvlockinfo_test || exit 1
grep -q "^available: yes" /sys/kernel/debug/pvlockinfo/status ||
	{ cat /sys/kernel/debug/pvlockinfo/status; exit 1; }
echo 2500000 >/sys/kernel/debug/pvlockinfo/selftest_own || exit 1
cat /sys/kernel/debug/pvlockinfo/selftest_own
# The host pauses, reads and resumes the VM within 20 s, then stops it;
# the marker is printed once a second meanwhile.
for i in $(seq 20); do echo SELFTEST-DONE $i; sleep 1; done' >"$out" 2>&1 &
vm_pid=$!
at_exit 'kill $vm_pid 2>/dev/null; wait $vm_pid 2>/dev/null'

wait_for "$out" SELFTEST-DONE 150 || { kill $vm_pid; fail "guest self-test did not finish: $(cat "$out")"; }
cat "$out"

# The guest's own reads.
own_reads_ok "$out" 4 2500000
for cpu in 0 1 2 3; do
	[ "${OWN_CHANGES[$cpu]}" -gt 0 ] || fail "vCPU $cpu never saw its record change: no preemption observed"
done
note "10000000 own-record reads on 4 vCPUs: 0 violations, 0 failures"

# Freeze the VM, then compare page and private counters.
paused_status "$name"
status=$STATUS
for cpu in 0 1 2 3; do
	page_agrees "$status" "$name" $cpu
	[ "$PREEMPTED" -gt 100 ] || fail "vCPU $cpu: only $PREEMPTED preemptions on a 4x oversubscribed pCPU"
done

# Done with the guest: everything that could fail in it (the module, the
# self-test) has printed by the first marker.
grep -q SELFTEST-DONE "$out" || fail "the guest run failed: $(tail -n 20 "$out")"
kill $vm_pid 2>/dev/null
wait $vm_pid 2>/dev/null || :	# TERM: ours
