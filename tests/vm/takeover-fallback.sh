#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 300
#
# The takeover when a spinlock function's ftrace direct call is taken by
# someone else: a user's BPF fentry program (the fixture fentry-hold,
# tests/helpers/fentry-hold.c, on _raw_spin_trylock), whose BPF
# trampoline is that direct call.  One guest, 2 vCPUs:
#  - entry=direct and entry=adaptive are refused, with the reason in the
#    kernel log;
#  - entry=auto (pvli-takeover apply's default) falls back to the
#    livepatch, says so, goes live, and takes the kernel's contended
#    spinlocks (the harness's spin_lock() runs through it: waits > 0, no
#    violation) while the BPF program keeps running beside it (its call
#    count grows); removed cleanly;
#  - the adaptive entry, applied with the function free, holds the direct
#    call while up (fentry-hold is refused then); switched down, the
#    fixture attaches; switched on again (adapt_steal_pct=0: it wants up
#    once the steal of two periods is known, and goes down only when switched off, so
#    nothing here depends on the host's timing) it is refused,
#    stays on the slowpath entry's paths and says "retrying" (before this
#    test's fix it gave up for good: "slowpath stuck"); the fixture
#    detached, it goes up within seconds, and is removed cleanly.
. "$(dirname "$0")/lib.sh"

start_pvlockd

out=$(vm takeover-fallback --smp 2 --channel on --timeout 240 --run '
p=/sys/module/pvlockinfo_takeover/parameters
ko=$(find /lib/modules -name pvlockinfo_takeover.ko)
ef=/sys/kernel/debug/tracing/enabled_functions
hooks() { echo "fast=$(grep -c "^_raw_spin_" $ef) slow=$(grep -c "^native_queued_spin_lock_slowpath" $ef)"; }
# hold FILE: fentry-hold in the background (output in FILE), once it has attached or failed
hold() {
	fentry-hold _raw_spin_trylock >$1 2>&1 & hp=$!
	for i in $(seq 100); do grep -q "^attached\|^fentry-hold:" $1 && break; sleep 0.1; done
}
# unhold FILE: stop it; its exit code and last line (not in a $(...): it waits for its child)
unhold() { kill $hp; wait $hp; echo "$? $(tail -1 $1)" >$1.end; }
'"$GUEST_ADAPT_STATE"'
modprobe pvlockinfo || exit 10
modprobe pvlockinfo_test || exit 10
for i in $(seq 50); do grep -q "available: yes" /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done

hold /tmp/h1; echo "hold1=$(head -1 /tmp/h1)"
insmod $ko entry=direct 2>/dev/null; echo "direct-rc=$?"
insmod $ko entry=adaptive 2>/dev/null; echo "adaptive-rc=$?"
pvli-takeover apply --timeout 120; echo "auto-rc=$? in_use=$(cat $p/in_use) $(hooks)"
pvli-takeover status | grep "^entry" | sed "s/^/status-auto: /"
pvlock-bench -p native -d 1000 >/tmp/b.json; echo "bench-rc=$? $(tr -d "\n" </tmp/b.json)"
echo "auto-waits=$(pvli-takeover counters waits)"
pvli-takeover remove --timeout 120; echo "remove-auto-rc=$? mode=$(pvli-takeover mode)"
unhold /tmp/h1; echo "unhold1=$(cat /tmp/h1.end)"

# adapt_steal_pct=0: up once the steal of two periods is known, never down by itself,
# whatever the host does meanwhile; only "off" takes it down.
insmod $ko entry=adaptive adapt_steal_pct=0 2>/dev/null
pvli-takeover apply --entry adaptive; echo "adaptive-apply-rc=$? in_use=$(cat $p/in_use) $(hooks) $(state direct 50)"
hold /tmp/h2
grep -q "^attached" /tmp/h2 && kill $hp	# the bug: do not wait for ever
wait $hp; echo "hold-up=$? $(grep "^fentry-hold:\|^attached" /tmp/h2)"
pvli-takeover off; echo "down=$(state slowpath 100) $(hooks)"
hold /tmp/h3; echo "hold3=$(head -1 /tmp/h3)"
pvli-takeover on
# its first refused try comes 1 s after the down and two periods later:
# wait for it (up to 15 s), not a fixed time
adaptive_wait "*retrying*" 150 >/dev/null
echo "blocked=$(cat $p/adaptive | cut -d" " -f1,4-) $(hooks)"
unhold /tmp/h3; echo "unhold3=$(cat /tmp/h3.end)"
echo "released=$(state direct 100) $(hooks) $(cut -d" " -f4-7 $p/adaptive)"
pvli-takeover remove; echo "remove-rc=$? mode=$(pvli-takeover mode)"
dmesg | grep -E "pvlockinfo_takeover|livepatch" | sed "s/^/dmesg: /"
') || fail "guest run failed (exit $?): $out"
echo "$out"

echo "$out" | matches '^hold1=attached _raw_spin_trylock$' || fail "the fixture did not attach: $(echo "$out" | grep '^hold1=')"
[ "$(echo "$out" | sed -n 's/^direct-rc=//p')" != 0 ] || fail "entry=direct applied though a BPF trampoline has _raw_spin_trylock"
[ "$(echo "$out" | sed -n 's/^adaptive-rc=//p')" != 0 ] || fail "entry=adaptive applied though a BPF trampoline has _raw_spin_trylock"
echo "$out" | matches 'dmesg: .*takeover refused: a spinlock function already has a direct call (a BPF trampoline?) (-16)' ||
	fail "no clear refusal in the kernel log"
expect_eq "entry=auto with the direct call taken" "$(echo "$out" | sed -n 's/^auto-rc=//p')" \
	"0 in_use=livepatch live fast=10 slow=1"
echo "$out" | matches 'dmesg: .*no direct entry (a spinlock function already has a direct call (a BPF trampoline?) (-16)); using the livepatch' ||
	fail "the fallback to the livepatch is not in the kernel log"
expect_eq "pvli-takeover status after the fallback" "$(echo "$out" | sed -n 's/^status-auto: //p')" "entry: livepatch"
line=$(echo "$out" | grep '^bench-rc=')
echo "$line" | matches '^bench-rc=0 .*"violations":0' || fail "the harness under the fallback livepatch: $line"
[ "$(echo "$out" | sed -n 's/^auto-waits=//p')" -gt 0 ] 2>/dev/null ||
	fail "no contended spin_lock() went through the fallback livepatch: $(echo "$out" | grep '^auto-waits=')"
expect_eq "remove the fallback livepatch" "$(echo "$out" | sed -n 's/^remove-auto-rc=//p')" "0 mode=native"
line=$(echo "$out" | grep '^unhold1=')
echo "$line" | matches '^unhold1=0 detached _raw_spin_trylock calls [1-9]' ||
	fail "the BPF program did not keep running beside the livepatch: $line"

expect_eq "adaptive apply with the function free" "$(echo "$out" | sed -n 's/^adaptive-apply-rc=//p')" \
	"0 in_use=adaptive live fast=10 slow=1 ok"
echo "$out" | matches '^hold-up=1 fentry-hold: cannot attach to _raw_spin_trylock: Device or resource busy' ||
	fail "the fixture attached while the adaptive entry had the direct call: $(echo "$out" | grep '^hold-up=')"
expect_eq "switched off: down" "$(echo "$out" | sed -n 's/^down=//p')" "ok fast=0 slow=1"
echo "$out" | matches '^hold3=attached _raw_spin_trylock$' || fail "the fixture did not attach while down: $(echo "$out" | grep '^hold3=')"
line=$(echo "$out" | grep '^blocked=')
echo "$line" | matches '^blocked=slowpath ups 0 downs 1 (direct calls refused, retrying: a spinlock function already has a direct call (a BPF trampoline?) (-16)) fast=1 slow=1$' ||
	fail "asked up with the direct call taken: not down and retrying: $line"
echo "$out" | matches '^unhold3=0 detached' || fail "the fixture: $(echo "$out" | grep '^unhold3=')"
expect_eq "the direct call free again: up" "$(echo "$out" | sed -n 's/^released=//p')" \
	"ok fast=10 slow=1 ups 1 downs 1"
echo "$out" | matches 'dmesg: .*adaptive entry: the direct calls registered after all' ||
	fail "no kernel log line for the late registration"
expect_eq "remove the adaptive entry" "$(echo "$out" | sed -n 's/^remove-rc=//p')" "0 mode=native"
