#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# Restarting pvlockd does not interrupt the channel: the BPF programs and
# maps stay pinned, so a guest reading its records the whole time never
# finds the page unavailable, and the new pvlockd re-adopts the VM (and
# still notices when it exits).  The guest reads in batches of 10M per vCPU
# (about 1 s under TCG here, less under KVM) until it has seen the new
# pvlockd's generation and read one batch more, so reading spans the
# restart however fast or slow the machine is (up to 120 batches).
# Meanwhile pvli-bar watches the page as the guest sees it (every 10 ms:
# valid, heartbeat moving) and reports the longest gap; the target is
# 1 s, printed, not asserted: the test fails only if the guest never saw
# the new pvlockd or its channel was not live at the end.
. "$(dirname "$0")/lib.sh"

if "$PVLOCKCTL" status >/dev/null 2>&1; then
	skip "a pvlockd this test did not start is running; it will not restart it"
fi
start_pvlockd
name=t-restart-$$
out=$PVLI_LOGDIR/guest.out
"$WRAPPER" -q --name "$name" --smp 2 --channel on --console-log "$PVLI_LOGDIR/restart.console" \
	--run 'modprobe pvlockinfo_test || exit 1
pvli-bar watch 300 10 2 & w=$!
echo READING
sleep 1	# let the line reach the host before the readers take every vCPU
changed() { dmesg | grep -q "host daemon changed"; }
i=0 after=0
while [ $after -lt 1 ] && [ $i -lt 120 ]; do
	changed && after=$((after + 1))
	echo 10000000 >/sys/kernel/debug/pvlockinfo/selftest_own || exit 1
	cat /sys/kernel/debug/pvlockinfo/selftest_own
	i=$((i + 1))
done
echo "batches $i"
dmesg | grep -E "host (daemon changed|channel lost)"
wait $w' >"$out" 2>&1 &
vm=$!
at_exit 'kill $vm 2>/dev/null; wait $vm 2>/dev/null'
wait_for "$out" READING 60 || fail "guest did not start reading: $(cat "$out")"
sleep 1
gen_before=$("$PVLOCKCTL" status --json | jq .generation)
stop_pvlockd
sleep 2		# the guest keeps reading; nothing manages the channel now
start_pvlockd
gen_after=$("$PVLOCKCTL" status --json | jq .generation)
"$PVLOCKCTL" status | matches "VM $name .*attached" || fail "new pvlockd did not re-adopt $name"
grep -q "VM $name: re-adopted" "$PVLI_LOGDIR/pvlockd.log" || fail "no re-adoption in the log"
note "pvlockd restarted (generation $gen_before -> $gen_after) and re-adopted $name"

wait $vm || fail "guest run failed: $(cat "$out")"
cat "$out"
# Each batch prints a line per vCPU: "CPU READS VIOLATIONS FAILED CHANGES ...".
for cpu in 0 1; do
	read -r c reads viol failed changes < <(awk -v c=$cpu '$1 == c && NF >= 5 {
		r += $2; v += $3; f += $4; n += $5 } END { print c, r + 0, v + 0, f + 0, n + 0 }' "$out")
	[ "$failed" = 0 ] || fail "vCPU $cpu: $failed reads found no live page during the restart"
	[ "$viol" = 0 ] || fail "vCPU $cpu: $viol violations"
	[ "$changes" -gt 0 ] || fail "vCPU $cpu saw no transitions"
done
grep -q "host channel lost" "$out" && fail "the guest lost the channel during the restart"
grep -q "host daemon changed" "$out" || fail "the guest did not notice the new pvlockd"
# The re-adopted VM is still cleaned up when it exits.
for _ in $(seq 50); do "$PVLOCKCTL" status | matches "$name" || break; sleep 0.1; done
"$PVLOCKCTL" status | matches "$name" && fail "the new pvlockd did not notice $name exit"
note "no gap: $(sed -n 's/^batches //p' "$out") batches of 10M reads per vCPU across the restart, 0 failures; exit noticed"
w=$(tr -d '\r' <"$out" | grep -m1 "^watch:") || fail "the guest's watcher reported nothing"
field() { sed -n "s/.* $1 \([0-9+]*\).*/\1/p" <<<"$w"; }
[ "$(field generations)" = 2 ] || fail "the guest saw $(field generations) pvlockd generations, want 2: $w"
[ "$(field last_generation)" = "$gen_after" ] || fail "the guest's last generation is not the new pvlockd's: $w"
[ "$(field tail_ms)" -lt 5000 ] || fail "the guest's channel did not come back: $w"
note "guest: $w"
note "longest channel gap the guest saw across the restart: $(field gap_max_ms) ms (target < 1000 ms; the watcher's own longest stall: $(field stall_max_ms) ms)"
