#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 200
#
# Takeover mode when the takeover cannot be applied: another livepatch
# (the test fixture pvlockinfo_klp_fixture.ko) already replaces the
# kernel's spinlock slow path.  "modprobe pvlockinfo takeover=1" must
# still load pvlockinfo, in non-takeover mode, say why in the kernel log
# and in debugfs status; a runtime "echo 1" to the switch must fail; the
# takeover module loaded by hand must refuse with the same reason; and
# pvlockinfo's own locks must work.
. "$(dirname "$0")/lib.sh"

start_pvlockd

out=$(vm takeover-refused --smp 2 --channel on --timeout 150 --run '
modprobe pvlockinfo_klp_fixture || exit 10
for i in $(seq 300); do [ "$(cat /sys/kernel/livepatch/pvlockinfo_klp_fixture/transition)" = 0 ] && break; sleep 0.1; done
modprobe pvlockinfo takeover=1; echo "modprobe-rc=$?"
for i in $(seq 300); do grep -q "last refusal" /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
grep "^takeover:" /sys/kernel/debug/pvlockinfo/status | sed "s/^/status: /"
echo "switch=$(cat /sys/module/pvlockinfo/parameters/takeover)"
echo 1 >/sys/module/pvlockinfo/parameters/takeover 2>/dev/null; echo "echo1-rc=$?"
echo "switch-after=$(cat /sys/module/pvlockinfo/parameters/takeover)"
# insmod: busybox modprobe exits 0 when a module init fails.
insmod "$(find /lib/modules -name pvlockinfo_takeover.ko)" 2>/dev/null; echo "direct-rc=$?"
[ -e /sys/kernel/livepatch/pvlockinfo_takeover ] && echo "takeover-patch-present"
modprobe pvlockinfo_test || exit 10
pvlock-bench -p shfl-pv -d 300 >/dev/null; echo "bench-rc=$?"
dmesg | grep -E "pvlockinfo(_takeover)?: takeover" | sed "s/^/dmesg: /"
') || fail "guest run failed (exit $?): $out"
echo "$out"

expect_eq "modprobe pvlockinfo takeover=1 with another livepatch present" \
	"$(echo "$out" | sed -n 's/^modprobe-rc=//p')" 0
echo "$out" | grep -q '^status: takeover: off (not applied); last refusal: another livepatch (or ftrace IPMODIFY user) already patches native_queued_spin_lock_slowpath' ||
	fail "debugfs status does not give the reason: $(echo "$out" | grep '^status:')"
expect_eq "takeover switch after the refusal" "$(echo "$out" | sed -n 's/^switch=//p')" 0
[ "$(echo "$out" | sed -n 's/^echo1-rc=//p')" != 0 ] || fail "echo 1 > takeover succeeded though the takeover cannot apply"
expect_eq "takeover switch after a refused echo 1" "$(echo "$out" | sed -n 's/^switch-after=//p')" 0
[ "$(echo "$out" | sed -n 's/^direct-rc=//p')" != 0 ] || fail "modprobe pvlockinfo_takeover succeeded on top of another livepatch"
echo "$out" | grep -q '^takeover-patch-present' && fail "the takeover's livepatch is present after the refusal"
echo "$out" | grep -q "dmesg: .*pvlockinfo: takeover mode not available: another livepatch .*pvlockinfo stays loaded without it" ||
	fail "no clear kernel log line for the refusal"
expect_eq "pvlockinfo's own locks after the refusal" "$(echo "$out" | sed -n 's/^bench-rc=//p')" 0
