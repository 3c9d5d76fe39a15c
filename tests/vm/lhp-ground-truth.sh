#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# Ground truth for the host's view of double scheduling.  A 2-vCPU guest;
# vCPU 1's thread alone is pinned to host CPU 1, everything else of QEMU
# to CPU 0.  A SCHED_FIFO hog pinned to CPU 1 then preempts vCPU 1 exactly
# N times for 50 ms each:
#
#  A. vCPU 1 holds a pvlockinfo lock the whole time (probe "hold"):
#     pvlockstat counts exactly N lock-holder preemptions of >= 32 ms on
#     vCPU 1 and none at all on vCPU 0; the guest, watching vCPU 1's
#     record from vCPU 0 (probe "watch"), sees exactly N preempted
#     intervals of 50 ms +- 2 ms, and vCPU 0 has no long run-queue wait
#     the host kernel's schedstat does not show too (it is not affected).
#  B. vCPU 0 holds the lock and vCPU 1 waits for it (spinning): exactly N
#     lock-waiter preemptions of >= 32 ms on vCPU 1, no LWP on vCPU 0.
#
# Other host tasks that run on CPU 1 preempt vCPU 1 too (for microseconds:
# kworkers, this script): those are real LHPs/LWPs, counted and printed,
# and the reason the exact count is taken over preemptions of >= 32 ms
# (the log2 histogram buckets from 32768 us up).  This script and what it
# starts stay on CPU 0.  The guest's watcher times intervals with the
# record's steal counter; when it missed transitions inside one (its own
# vCPU stalled), the reading also holds the waits it missed, so only
# readings it saw both ends of are held to +- 2 ms, the others to >= 48 ms.
# A reading outside 50 +- 2 ms passes only if the host kernel's own account
# of vCPU 1's waits (/proc/TID/schedstat, tests/helpers/rundelay.c) shows a
# wait that long too (to within 1 ms): a task that runs on CPU 1 right
# after a burst makes the preemption itself longer than 50 ms (measured:
# 52.4 ms, about once in 13 runs).
. "$(dirname "$0")/lib.sh"

[ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs (one for vCPU 1 alone)"
start_pvlockd
PVLOCKSTAT=$PVLI_BUILD/host/pvlockstat
HOG=$PVLI_BUILD/tests/cpuhog
RUNDELAY=$PVLI_BUILD/tests/rundelay
N=5
# Each guest phase lasts PHASE_MS; the host's side of a phase must fit
# inside it: the wait for the next 1 s interval of a pvlockstat started
# (its BPF loaded) before either phase, the N bursts (1.5 s), and the two
# intervals that end after them, so about 4.5 s.  (Loading the BPF inside
# the phase took up to 4 s more on a loaded 2-CPU machine, and depends on
# the machine.)  Preemption stays off on a vCPU for a whole phase: 10 s
# keeps clear of the soft-lockup (20 s) and RCU stall (21 s) detectors.
# The host checks the phase still held when it was done (phase_held)
# instead of trusting the margin.
PHASE_MS=10000
name=t-lhp-$$
out=$PVLI_LOGDIR/guest.out

"$WRAPPER" -q --name "$name" --smp 2 --channel on \
	--console-log "$PVLI_LOGDIR/lhp.console" --run "PHASE_MS=$PHASE_MS"'
modprobe pvlockinfo_test || exit 1
i=0
until grep -q "^available: yes" /sys/kernel/debug/pvlockinfo/status; do
	i=$((i + 1)); [ $i -lt 30 ] || { cat /sys/kernel/debug/pvlockinfo/status; exit 1; }
	sleep 1
done
d=/sys/kernel/debug/pvlockinfo
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
echo "clocksource before $(cat $cs)"
echo "holder=1 ms=$PHASE_MS" >$d/hold &
echo "cpu=1 ms=$PHASE_MS on=0 min_us=25000" >$d/watch || exit 1
wait $! || exit 1
echo "== A"; cat $d/hold $d/watch
echo "holder=0 waiter=1 ms=$PHASE_MS" >$d/hold || exit 1
echo "== B"; cat $d/hold
echo "clocksource after $(cat $cs)"' >"$out" 2>&1 &
vm_pid=$!
at_exit 'kill $vm_pid 2>/dev/null; wait $vm_pid 2>/dev/null'

# Pin: vCPU 1 alone on CPU 1, every other QEMU thread on CPU 0.
for _ in $(seq 300); do [ -S "/run/pvlockinfo/qemu/$name/qmp.sock" ] && break; sleep 0.1; done
tids=$(qmp "$name" '{"execute":"query-cpus-fast"}' | jq -r '.return[]."thread-id"')
set -- $tids
[ $# = 2 ] || fail "query-cpus-fast gave '$tids', want 2 vCPU threads"
vcpu0=$1 vcpu1=$2
qpid=$(cat "/run/pvlockinfo/qemu/$name/qemu.pid")
for t in /proc/"$qpid"/task/*; do taskset -pc 0 "${t##*/}" >/dev/null; done
taskset -pc 1 "$vcpu1" >/dev/null || fail "cannot pin vCPU 1 ($vcpu1) to CPU 1"
taskset -pc 0 $$ >/dev/null	# this script and its children stay off CPU 1
# When a burst ends, vCPU 1 must be the task CPU 1 runs next, not a
# kworker starved during the burst (measured: one reading of 52.4 ms).
renice -n -20 -p "$vcpu1" >/dev/null || fail "cannot renice vCPU 1 ($vcpu1)"
note "vCPU threads $tids; vCPU 1 alone on host CPU 1"

# guest_state: the guest halves of both records, as pvlockd shows them:
# "HOLD0 WAITING0 HOLD1 WAITING1", e.g. "0 false 1 false".
guest_state() {
	"$PVLOCKCTL" status --json | jq -r --arg n "$name" \
		'.vms[] | select(.name == $n) | [.vcpus[] | .page.guest.hold_depth, .page.guest.waiting] | join(" ")'
}

# await_state STATE WHAT: until both records say STATE (the guest's phase).
await_state() {
	local s=
	for _ in $(seq 600); do
		s=$(guest_state 2>/dev/null)
		[ "$s" = "$1" ] && return 0
		kill -0 $vm_pid 2>/dev/null || fail "the guest ended early: $(cat "$out")"
		sleep 0.1
	done
	fail "$2 never showed in the page: want '$1', last saw '$s'"
}

# phase_held STATE LABEL: the guest is still in the phase the host just
# measured (otherwise the counts mix two phases: say so, not a wrong count).
phase_held() {
	local s
	s=$(guest_state 2>/dev/null)
	[ "$s" = "$1" ] ||
		fail "the guest left phase $2 (its $PHASE_MS ms) before the host had counted its $N bursts (page now '$s'): the host side took $((SECONDS - phase_start)) s; is the machine overloaded?"
	note "phase $2: the host side took about $((SECONDS - phase_start)) s of the guest's $((PHASE_MS / 1000))"
}

# One pvlockstat counts the whole run, a JSON line per 1 s interval (its
# "time" the interval's end), loaded before either phase begins.
stat_lines=$PVLI_LOGDIR/pvlockstat.jsonl
pvlockd_wait_vm "$name" $vm_pid || fail "pvlockd did not list the VM"
"$PVLOCKSTAT" -j --vm "$name" 1 >"$stat_lines" 2>"$stat_lines.err" &
stat_pid=$!
at_exit 'kill $stat_pid 2>/dev/null'
wait_for "$stat_lines.err" '^pvlockstat: counting' 60 || fail "pvlockstat did not start: $(cat "$stat_lines.err")"

# interval_after T: the end time of the first interval pvlockstat printed
# that ended after T (seconds since the epoch), once it has; fails the
# test if it printed none within 10 s.  Sets $iv (not a subshell: fail
# must end the test).
interval_after() {
	iv=
	for _ in $(seq 100); do
		kill -0 $stat_pid 2>/dev/null || fail "pvlockstat ended early: $(cat "$stat_lines.err")"
		iv=$(jq -r --argjson t "$1" 'select(.time > $t) | .time' "$stat_lines" 2>/dev/null | head -n 1)
		[ -n "$iv" ] && return 0
		sleep 0.1
	done
	fail "pvlockstat printed no interval ending after $1 in 10 s: $(cat "$stat_lines.err")"
}

# phase LABEL STATFILE: hog CPU 1 N times; STATFILE gets pvlockstat's
# intervals from the first that starts after the call to the first that
# ends after the bursts, added up (one object of the same form), so that
# it holds this phase only.
phase() {
	local from to
	interval_after "$(date +%s.%N)"; from=$iv
	"$HOG" --cpu 1 --burst-ms 50 --gap-ms 250 --count $N --fifo 50 >"$PVLI_LOGDIR/hog-$1.txt" ||
		fail "cpuhog failed: $(cat "$PVLI_LOGDIR/hog-$1.txt")"
	# The interval after the one that ends after the bursts: an interval
	# is read a little before the time it prints.
	interval_after "$(date +%s.%N)"
	interval_after "$iv"; to=$iv
	jq -s -c --argjson a "$from" --argjson b "$to" '
		# numbers add, arrays (histograms, vCPUs in order) add by
		# index, objects by key; names and identities stay
		def plus($x; $y):
			if $x == null then $y elif $y == null then $x
			elif ($x | type) == "number" then $x + $y
			elif ($x | type) == "array" then
				[range(0; [($x | length), ($y | length)] | max) as $i | plus($x[$i]; $y[$i])]
			elif ($x | type) == "object" then
				reduce ($y | keys_unsorted[]) as $k ($x;
					.[$k] = if ($k | IN("time", "vcpu", "tid", "slot")) then $x[$k]
						else plus($x[$k]; $y[$k]) end)
			else $x end;
		[.[] | select(.time > $a and .time <= $b)] as $in
		| if ($in | length) < 2 or ([$in[].vms[0].vcpus | map(.vcpu)] | unique | length) != 1
		  then error("\($in | length) intervals, vCPU lists \([$in[].vms[0].vcpus | map(.vcpu)] | unique)")
		  else reduce $in[1:][] as $o ($in[0]; plus(.; $o)) | .time = $b end' \
		"$stat_lines" >"$2" 2>"$2.err" || fail "cannot add up pvlockstat's intervals $from-$to: $(cat "$2.err")"
	note "phase $1: pvlockstat's intervals from $from to $to ($(jq .interval_s "$2") s)"
}

# figure STATFILE VCPU JQ-EXPR: one figure of one vCPU.
figure() {
	jq -r ".vms[0].vcpus[] | select(.vcpu == $2) | $3" "$1"
}
long='[.[15:][]] | add // 0'	# events of >= 32768 us in a log2 us histogram

# ---- A: lock-holder preemption ------------------------------------------------------
await_state "0 false 1 false" "vCPU 1 holding the lock (phase A)"
phase_start=$SECONDS
# The host kernel's own account of each long wait of vCPU 1 (schedstat):
# the truth the guest's readings are held to (see the end).
"$RUNDELAY" --tid="$vcpu1" --min-us=25000 --seconds=30 >"$PVLI_LOGDIR/rundelay-A.txt" 2>&1 &
rd_pid=$!
at_exit 'kill $rd_pid 2>/dev/null'
"$RUNDELAY" --tid="$vcpu0" --min-us=25000 --seconds=30 >"$PVLI_LOGDIR/rundelay-A0.txt" 2>&1 &
rd0_pid=$!
at_exit 'kill $rd0_pid 2>/dev/null'
wait_for "$PVLI_LOGDIR/rundelay-A.txt" '^watching' 10 || fail "rundelay did not start"
wait_for "$PVLI_LOGDIR/rundelay-A0.txt" '^watching' 10 || fail "rundelay (vCPU 0) did not start"
phase A "$PVLI_LOGDIR/stat-A.json"
phase_held "0 false 1 false" A
kill -TERM $rd_pid $rd0_pid; wait $rd_pid $rd0_pid
host_waits=$(sed -n 's/^wait_us //p' "$PVLI_LOGDIR/rundelay-A.txt" | tr '\n' ' ')
host_waits0=$(sed -n 's/^wait_us //p' "$PVLI_LOGDIR/rundelay-A0.txt" | tr '\n' ' ')
note "host schedstat: vCPU 1's waits of >= 25 ms in phase A (us): $host_waits"
cat "$PVLI_LOGDIR/stat-A.json"
lhp1=$(figure "$PVLI_LOGDIR/stat-A.json" 1 "(.lhp_offcpu_log2_us | $long)")
expect_eq "vCPU 1 lock-holder preemptions of >= 32 ms" "$lhp1" $N
note "vCPU 1: $(figure "$PVLI_LOGDIR/stat-A.json" 1 .lhp) LHPs in all (short ones: other host tasks on CPU 1)"
expect_eq "vCPU 0 lock-holder preemptions" "$(figure "$PVLI_LOGDIR/stat-A.json" 0 .lhp)" 0
expect_eq "lock-waiter preemptions on either vCPU" \
	"$(jq '[.vms[0].vcpus[].lwp] | add' "$PVLI_LOGDIR/stat-A.json")" 0
# vCPU 0 shares CPU 0 with the rest of QEMU, this script and its tools,
# so it waits now and then, on a loaded machine for 32 ms and more: those
# waits are real, and the host kernel's schedstat shows them too.  What it
# must not see is the hog's bursts on CPU 1: every long wait pvlockstat
# gives vCPU 0 must be one the host kernel gave it (a schedstat jump of
# >= 31 ms; the histogram bucket starts at 32.768 ms).
rq0=$(figure "$PVLI_LOGDIR/stat-A.json" 0 '[.rq_wait_log2_us[15:][]] | add // 0')
host0=0
for h in $host_waits0; do [ "$h" -ge 31000 ] && host0=$((host0 + 1)); done
note "vCPU 0: $rq0 run-queue waits of >= 32 ms in pvlockstat, $host0 of >= 31 ms in schedstat ($host_waits0)"
[ "$rq0" -le "$host0" ] ||
	fail "pvlockstat gives vCPU 0 $rq0 run-queue waits of >= 32 ms, the host kernel only $host0 (schedstat: $host_waits0)"

# ---- B: lock-waiter preemption ------------------------------------------------------
await_state "1 false 0 true" "vCPU 0 holding and vCPU 1 waiting (phase B)"
phase_start=$SECONDS
phase B "$PVLI_LOGDIR/stat-B.json"
phase_held "1 false 0 true" B
kill -INT $stat_pid; wait $stat_pid || fail "pvlockstat failed: $(cat "$stat_lines.err")"
cat "$PVLI_LOGDIR/stat-B.json"
lwp1=$(figure "$PVLI_LOGDIR/stat-B.json" 1 "(.lwp_offcpu_log2_us | $long)")
expect_eq "vCPU 1 lock-waiter preemptions of >= 32 ms" "$lwp1" $N
expect_eq "vCPU 0 lock-waiter preemptions" "$(figure "$PVLI_LOGDIR/stat-B.json" 0 .lwp)" 0
expect_eq "vCPU 1 lock-holder preemptions" "$(figure "$PVLI_LOGDIR/stat-B.json" 1 .lhp)" 0

# ---- the guest's own view (phase A's watcher) ---------------------------------------
wait $vm_pid || fail "the guest run failed: $(tail -n 20 "$out")"
cat "$out"
sed -n '/^== A/,/^== B/p' "$out" | matches '^holder cpu 1 held' || fail "no hold result in phase A"
read -r _ wcpu _ reads _ failed _ missed _ short _ nlong < <(grep '^cpu 1 reads' "$out")
[ "$wcpu" = 1 ] || fail "no watch result: $(cat "$out")"
# What a miss is diagnosed from: a guest that changed clocksource meanwhile
# did so in a stop_machine() that waits for every vCPU, vCPU 1 (holding
# the lock with preemption off) last; its watcher on vCPU 0 stalled.
cs0=$(sed -n 's/^clocksource before //p' "$out") cs1=$(sed -n 's/^clocksource after //p' "$out")
stall=$(sed -n 's/^watcher_stall_us //p' "$out")
note "guest clocksource $cs0 before, $cs1 after; the watcher's longest stall: ${stall:-?} us"
[ "$cs0" = "$cs1" ] || note "the guest switched clocksource during the run: its TSC was marked unstable (see the console)"
# A reading that missed transitions spans several of vCPU 1's preemptions
# and the runs between them (its steal counter sums the preemptions).  As
# long as the watcher's vCPU 0 was never kept off its host CPU for the
# 25 ms the watcher counts from, such a reading held a burst and is exact
# in number: N of them, in all.  (The watcher also stalls inside the guest,
# e.g. for an IPI to vCPU 1 while it is preempted: 50 ms, measured on a
# quiet machine; that merges nothing short.)  When the host kept vCPU 0
# off that long (a loaded machine: schedstat says so), short preemptions
# merge into readings of 25 ms and up too: then the test holds the guest
# to seeing every burst (a reading of >= 48 ms per burst it holds) and to
# exact clean readings, and says so.
stalled=no
[ -z "${host_waits0// /}" ] || stalled=yes
seen=0
while read -r _ us _ m; do
	if [ "$m" = 0 ]; then
		if [ "$us" -lt 48000 ] || [ "$us" -gt 52000 ]; then
			# Longer than the hog's 50 ms is right if the host kept vCPU 1
			# off that long (another task ran after the hog): then the host's
			# own account shows the same wait, to within 1 ms.
			match=
			for h in $host_waits; do
				[ $((h - us)) -le 1000 ] && [ $((us - h)) -le 1000 ] && match=$h
			done
			[ -n "$match" ] ||
				fail "the guest saw vCPU 1 preempted for $us us, want 50000 +- 2000 (host waits: $host_waits)"
			note "the host itself kept vCPU 1 off for $match us (schedstat); the guest saw $us us"
		fi
		seen=$((seen + 1))
	elif [ "$us" -ge 48000 ]; then
		seen=$((seen + us / 48000))
	elif [ $stalled = yes ]; then
		note "guest saw vCPU 1 preempted $us us over $m transitions: short preemptions merged while the watcher stalled"
		continue
	else
		fail "the guest saw vCPU 1 preempted for $us us ($m transitions missed), want >= 48000"
	fi
	note "guest saw vCPU 1 preempted $us us ($m transitions missed inside)"
done < <(grep '^preempted_us' "$out")
if [ $stalled = no ]; then
	expect_eq "50 ms preemptions of vCPU 1 seen by the guest" "$nlong" $N
else
	note "the host kept vCPU 0 off its CPU for >= 25 ms (schedstat: $host_waits0; the watcher's longest stall $stall us): its readings merge, so only a lower bound holds"
	[ "$seen" -ge $N ] || fail "the guest saw $seen of the $N 50 ms preemptions of vCPU 1"
	note "the guest saw all $N 50 ms preemptions of vCPU 1 (readings of >= 48 ms: $seen bursts' worth)"
fi
note "watcher: $reads reads, $failed failed, $short short preemptions, $missed transitions missed"
