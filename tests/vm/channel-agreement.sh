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
# The host pauses, reads and resumes the VM in the next 20 s.  A line
# printed once can sit in the guest UART until the next write (see
# README, known problems), so the marker is repeated every second.
for i in $(seq 20); do echo SELFTEST-DONE $i; sleep 1; done
cat /sys/kernel/debug/pvlockinfo/vcpus' >"$out" 2>&1 &
vm_pid=$!
at_exit 'kill $vm_pid 2>/dev/null; wait $vm_pid 2>/dev/null'

wait_for "$out" SELFTEST-DONE 150 || { kill $vm_pid; fail "guest self-test did not finish: $(cat "$out")"; }
cat "$out"

# The guest's own reads.
total=0
for cpu in 0 1 2 3; do
	read -r c reads viol failed changes _ < <(awk -v c=$cpu '$1 == c' "$out")
	[ "$reads" = 2500000 ] || fail "vCPU $cpu: $reads reads, want 2500000"
	[ "$viol" = 0 ] || fail "vCPU $cpu saw itself not running $viol times"
	[ "$failed" = 0 ] || fail "vCPU $cpu: $failed reads failed"
	[ "$changes" -gt 0 ] || fail "vCPU $cpu never saw its record change: no preemption observed"
	total=$((total + reads))
done
note "$total own-record reads on 4 vCPUs: 0 violations, 0 failures"

# Freeze the VM, then compare page and private counters.
qmp "$name" '{"execute":"stop"}' >/dev/null || fail "QMP stop failed (see the reason above)"
sleep 1
status=$("$PVLOCKCTL" status --json)
qmp "$name" '{"execute":"cont"}' >/dev/null
echo "$status" >"$PVLI_LOGDIR/status.json"
vm=$(jq -c --arg n "$name" '.vms[] | select(.name == $n)' <<<"$status")
[ -n "$vm" ] || fail "pvlockd does not list $name: $status"
for cpu in 0 1 2 3; do
	v=$(jq -c ".vcpus[$cpu]" <<<"$vm")
	state=$(jq -r .page.host.state <<<"$v")
	page=$(jq .page.host.preempt_count <<<"$v")
	bpf=$(jq .counters.preempted <<<"$v")
	seq=$(jq .page.host.seq <<<"$v")
	events=$(jq '.counters | .switch_out + .switch_in + .wakeups + .repaired' <<<"$v")
	[ "$state" = idle ] || fail "vCPU $cpu is '$state' in a paused VM, want idle"
	[ "$page" = "$bpf" ] || fail "vCPU $cpu: page says $page preemptions, BPF counted $bpf"
	[ $((seq % 2)) = 0 ] || fail "vCPU $cpu: seq $seq is odd in a paused VM"
	diff=$((seq / 2 - events))
	[ ${diff#-} -le 1 ] || fail "vCPU $cpu: $((seq / 2)) record writes, BPF counted $events events"
	[ "$bpf" -gt 100 ] || fail "vCPU $cpu: only $bpf preemptions on a 4x oversubscribed pCPU"
	dropped=$(jq .counters.dropped <<<"$v")
	[ "$dropped" = 0 ] || fail "vCPU $cpu: $dropped updates dropped by the seqlock writers"
	note "vCPU $cpu: $bpf preemptions in page and BPF map, $((seq / 2)) record writes for $events events ($(jq .counters.repaired <<<"$v") repaired switch-ins)"
done

wait $vm_pid || fail "the guest run failed: $(tail -n 20 "$out")"
