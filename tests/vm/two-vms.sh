#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# Two VMs with the channel at once: each guest sees its own vCPUs only;
# killing one QEMU removes its page and registrations and leaves the
# other's channel live.
. "$(dirname "$0")/lib.sh"

start_pvlockd
a=t-twoa-$$
b=t-twob-$$

# Guest b reports its channel every 0.5 s, for at most 40 s: the host
# checks both, kills a, then stops b once it has reported 10 more times
# (5 s, five times the driver's 1 s stale threshold).  b starts only once
# a is up: booted side
# by side, a was seen coming up 40-60 s after b (2 host CPUs, two TCG
# boots), after b's window.
guest='modprobe pvlockinfo || exit 1
grep -E "^(available|vcpus)" /sys/kernel/debug/pvlockinfo/status
echo READY
i=0
while [ $i -lt 80 ]; do
	grep "^available" /sys/kernel/debug/pvlockinfo/status
	sleep 0.5
	i=$((i + 1))
done'

"$WRAPPER" -q --name "$a" --smp 2 --channel on --console-log "$PVLI_LOGDIR/a.console" \
	--run 'modprobe pvlockinfo; i=0; while [ $i -lt 200 ]; do echo READY; sleep 0.5; i=$((i + 1)); done' \
	>"$PVLI_LOGDIR/a.out" 2>&1 &
pid_a=$!
pid_b=
at_exit 'kill $pid_a $pid_b 2>/dev/null; wait $pid_a $pid_b 2>/dev/null'
wait_for "$PVLI_LOGDIR/a.out" READY 60 || fail "guest a did not come up: $(cat "$PVLI_LOGDIR/a.out")"
"$WRAPPER" -q --name "$b" --smp 3 --channel on --console-log "$PVLI_LOGDIR/b.console" \
	--run "$guest" >"$PVLI_LOGDIR/b.out" 2>&1 &
pid_b=$!
wait_for "$PVLI_LOGDIR/b.out" READY 60 || fail "guest b did not come up: $(cat "$PVLI_LOGDIR/b.out")"

status=$("$PVLOCKCTL" status --json)
for vm in "$a:2" "$b:3"; do
	n=$(jq --arg n "${vm%:*}" '[.vms[] | select(.name == $n)][0].vcpus | length' <<<"$status")
	expect_eq "vCPUs pvlockd tracks for ${vm%:*}" "$n" "${vm#*:}"
done
grep -q "^vcpus: 3" "$PVLI_LOGDIR/b.out" || fail "guest b does not see a 3-vCPU page: $(cat "$PVLI_LOGDIR/b.out")"
pin_a=$(jq -r --arg n "$a" '.vms[] | select(.name == $n) | .pin' <<<"$status")
tids_a=$(jq -r --arg n "$a" '.vms[] | select(.name == $n) | .vcpus[].tid' <<<"$status")

# Kill VM a's QEMU the hard way.
before_kill=$(grep -c '^available' "$PVLI_LOGDIR/b.out")
kill -KILL "$(cat "/run/pvlockinfo/qemu/$a/qemu.pid")"
for _ in $(seq 50); do [ -e "$pin_a" ] || break; sleep 0.1; done
[ ! -e "$pin_a" ] || fail "pvlockd left the dead VM's page pinned at $pin_a"
"$PVLOCKCTL" status | matches "$a" && fail "pvlockd still lists the dead VM"
for t in $tids_a; do
	bpftool map lookup pinned /sys/fs/bpf/pvlockinfo/maps/vcpus key $(printf '%d %d %d %d' \
		$((t & 255)) $((t >> 8 & 255)) $((t >> 16 & 255)) $((t >> 24 & 255))) >/dev/null 2>&1 &&
		fail "vCPU thread $t of the dead VM is still registered"
done
note "dead VM's page, pin and vCPU threads removed"
wait $pid_a

# b goes on reporting: 10 more reports, then it is stopped.  A guest that
# dies or stops reporting ends its output short of them.
for _ in $(seq 300); do
	[ "$(grep -c '^available' "$PVLI_LOGDIR/b.out")" -ge $((before_kill + 10)) ] && break
	kill -0 $pid_b 2>/dev/null || break
	sleep 0.1
done
kill $pid_b 2>/dev/null
wait $pid_b 2>/dev/null || :	# TERM: ours
out=$(cat "$PVLI_LOGDIR/b.out")
after=$(grep '^available' <<<"$out" | tail -n +$((before_kill + 1)))
[ "$(grep -c '^available: yes' <<<"$after")" -ge 10 ] ||
	fail "guest b reported its channel live fewer than 10 times after VM a died: $out"
grep -q '^available: no' <<<"$out" && fail "guest b lost its channel: $out"
note "guest b's channel stayed live: $(grep -c . <<<"$after") reports after VM a died, all 'available: yes'"
