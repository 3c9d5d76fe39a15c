#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# Two things around the takeover's state that a user can change while
# it settles:
#  - "modprobe pvlockinfo takeover=1" applies the takeover from a work
#    item once pvlockinfo's init is done; an "echo 0" to the switch right
#    after modprobe returns lands while that work still loads the
#    takeover module.  The user's last word must win: switched off once
#    the takeover is applied (before the fix, the registration switched
#    it back on).
#  - CPU hotplug while irqs-off halts are armed (the takeover live): the
#    watchdog that ends a halt no kick ended is one hrtimer per CPU, each
#    watching the others.  A CPU that goes down must take its timer with
#    it and one that comes up must get one; before the fix the timer of
#    a CPU taken offline moved to the other CPU, which then ran two
#    (each skipping itself) and, once the first came back without one,
#    was watched by nobody.  Counted per CPU in /proc/timer_list
#    (lib.sh's GUEST_WATCHDOGS).
# Switched off, the takeover holds them no more: no timer.
# Then arming and disarming (irqsoff-halt off/on, the switch off/on) in a loop while vCPU 1
# goes off and on line 15 times: one timer per CPU after.  Then a
# spinlock_t hammered on both vCPUs (no mutual-exclusion violation) and
# the removal (no timer left).
. "$(dirname "$0")/lib.sh"

start_pvlockd

out=$(vm takeover-hotplug --smp 2 --host-cpus 0-1 --channel on --timeout 150 --run "$GUEST_WATCHDOGS"'
sw=/sys/module/pvlockinfo/parameters/takeover
modprobe pvlockinfo takeover=1 || exit 10
echo 0 >$sw; echo "echo0-rc=$?"
for i in $(seq 300); do grep -q "^takeover: .*(applied" /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
sleep 1
grep "^takeover:" /sys/kernel/debug/pvlockinfo/status | sed "s/^/status-load: /"
echo "switch-load=$(cat $sw)"
echo "watch-load-off=$(watchdogs 2)"
echo 1 >$sw; echo "echo1-rc=$?"
echo "watch-on=$(watchdogs 2)"
echo 0 >/sys/devices/system/cpu/cpu1/online; echo "offline-rc=$?"
echo "watch-offline=$(watchdogs 2)"
echo 1 >/sys/devices/system/cpu/cpu1/online; echo "online-rc=$?"
echo "watch-online=$(watchdogs 2)"
# Arming and disarming racing CPU hotplug (each is serialised against
# the other by the hotplug lock): whatever the interleaving, one timer
# per online CPU while armed.
( for i in $(seq 15); do echo 0 >/sys/devices/system/cpu/cpu1/online; echo 1 >/sys/devices/system/cpu/cpu1/online; done ) &
hp=$!
n=0; while kill -0 $hp 2>/dev/null; do
	pvli-takeover irqsoff-halt off; pvli-takeover off; pvli-takeover irqsoff-halt on; pvli-takeover on
	n=$((n + 1))
done
wait $hp
echo "toggles=$n cpu1=$(cat /sys/devices/system/cpu/cpu1/online)"
echo "watch-race=$(watchdogs 2)"
modprobe pvlockinfo_test || exit 10
pvlock-bench -p native -d 2000 >/tmp/bench.json; echo "bench-rc=$?"
echo "bench $(tr -d "\n" </tmp/bench.json)"
pvli-takeover remove; echo "remove-rc=$?"
echo "watch-removed=$(watchdogs 2)"
dmesg | grep -E "pvlockinfo|NMI" | sed "s/^/dmesg: /"
') || fail "guest run failed (exit $?): $out"
echo "$out"

expect_eq "echo 0 > takeover right after modprobe pvlockinfo takeover=1" \
	"$(echo "$out" | sed -n 's/^echo0-rc=//p')" 0
echo "$out" | matches '^status-load: takeover: off (applied, entry adaptive)' ||
	fail "status once applied: $(echo "$out" | grep '^status-load:')"
expect_eq "the switch once the takeover applied, after the user's echo 0" \
	"$(echo "$out" | sed -n 's/^switch-load=//p')" 0
expect_eq "irqs-off halt watchdogs per CPU, applied but switched off" \
	"$(echo "$out" | sed -n 's/^watch-load-off=//p')" "0 0 "
expect_eq "echo 1 > takeover" "$(echo "$out" | sed -n 's/^echo1-rc=//p')" 0
expect_eq "irqs-off halt watchdogs per CPU, takeover live" \
	"$(echo "$out" | sed -n 's/^watch-on=//p')" "1 1 "
expect_eq "taking vCPU 1 offline" "$(echo "$out" | sed -n 's/^offline-rc=//p')" 0
expect_eq "watchdogs per CPU with vCPU 1 offline" \
	"$(echo "$out" | sed -n 's/^watch-offline=//p')" "1 0 "
expect_eq "bringing vCPU 1 back" "$(echo "$out" | sed -n 's/^online-rc=//p')" 0
expect_eq "watchdogs per CPU with vCPU 1 back" \
	"$(echo "$out" | sed -n 's/^watch-online=//p')" "1 1 "
echo "$out" | matches '^toggles=[1-9][0-9]* cpu1=1$' ||
	fail "no arm/disarm while vCPU 1 went off and on line: $(echo "$out" | grep '^toggles=')"
expect_eq "watchdogs per CPU after arming and disarming raced hotplug" \
	"$(echo "$out" | sed -n 's/^watch-race=//p')" "1 1 "
expect_eq "the spinlock_t harness after the hotplug" "$(echo "$out" | sed -n 's/^bench-rc=//p')" 0
expect_eq "mutual-exclusion violations of a kernel spinlock after the hotplug" \
	"$(echo "$out" | sed -n 's/^bench //p' | jq '.violations')" 0
expect_eq "pvli-takeover remove" "$(echo "$out" | sed -n 's/^remove-rc=//p')" 0
expect_eq "watchdogs per CPU once the takeover is removed" \
	"$(echo "$out" | sed -n 's/^watch-removed=//p')" "0 0 "
