# SPDX-License-Identifier: GPL-2.0-only
# The channel's end-to-end checks, shared by the tests that run them
# (channel-agreement, guest-garbage); sourced after lib.sh.

# own_reads_ok OUT NCPUS READS: each vCPU's selftest_own line in guest
# output OUT ("CPU READS VIOLATIONS FAILED CHANGES ...") shows READS
# reads, none of which saw the vCPU anything but RUNNING or failed.
# Sets OWN_CHANGES[CPU] to the reads where the record had moved.
declare -A OWN_CHANGES=()
own_reads_ok() {
	local out=$1 n=$2 want=$3 cpu c reads viol failed changes
	for ((cpu = 0; cpu < n; cpu++)); do
		read -r c reads viol failed changes _ < <(tr -d '\r' <"$out" | awk -v c=$cpu '$1 == c')
		[ "$reads" = "$want" ] || fail "vCPU $cpu: $reads reads, want $want: $(cat "$out")"
		[ "$viol" = 0 ] || fail "vCPU $cpu saw itself not running $viol times"
		[ "$failed" = 0 ] || fail "vCPU $cpu: $failed reads failed"
		OWN_CHANGES[$cpu]=$changes
	done
}

# paused_status NAME: pvlockd's status --json, taken while VM NAME is
# paused for a second (QMP stop, cont), into STATUS and
# $PVLI_LOGDIR/status.json.
paused_status() {
	qmp "$1" '{"execute":"stop"}' >/dev/null || fail "QMP stop of $1 failed (see the reason above)"
	sleep 1
	STATUS=$("$PVLOCKCTL" status --json)
	qmp "$1" '{"execute":"cont"}' >/dev/null
	echo "$STATUS" >"$PVLI_LOGDIR/status.json"
}

# page_agrees STATUS NAME CPU: in status --json STATUS, taken while VM
# NAME was paused (QMP stop: nothing moves), vCPU CPU's record is idle
# and settled, agrees exactly with the BPF program's private counts
# (preemptions equal; the seqlock moved once per event, give or take the
# one in flight when pvlockd attached) and no update was dropped.  Sets
# PREEMPTED to its preemptions.
page_agrees() {
	local v state page seq events diff
	v=$(jq -c --arg n "$2" ".vms[] | select(.name == \$n) | .vcpus[$3]" <<<"$1")
	[ -n "$v" ] || fail "pvlockd does not list $2's vCPU $3"
	state=$(jq -r .page.host.state <<<"$v")
	page=$(jq .page.host.preempt_count <<<"$v")
	PREEMPTED=$(jq .counters.preempted <<<"$v")
	seq=$(jq .page.host.seq <<<"$v")
	events=$(jq '.counters | .switch_out + .switch_in + .wakeups + .repaired' <<<"$v")
	[ "$state" = idle ] || fail "$2 vCPU $3 is '$state' in a paused VM, want idle"
	[ "$page" = "$PREEMPTED" ] || fail "$2 vCPU $3: page says $page preemptions, BPF counted $PREEMPTED"
	[ $((seq % 2)) = 0 ] || fail "$2 vCPU $3: seq $seq is odd in a paused VM"
	diff=$((seq / 2 - events))
	[ ${diff#-} -le 1 ] || fail "$2 vCPU $3: $((seq / 2)) record writes, BPF counted $events events"
	[ "$(jq .counters.dropped <<<"$v")" = 0 ] ||
		fail "$2 vCPU $3: $(jq .counters.dropped <<<"$v") updates dropped by the seqlock writers"
	note "$2 vCPU $3: $PREEMPTED preemptions in page and BPF map, $((seq / 2)) record writes for $events events ($(jq .counters.repaired <<<"$v") repaired switch-ins)"
}
