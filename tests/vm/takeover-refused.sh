#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 320
#
# Takeover mode when the takeover cannot be applied: another livepatch
# (the test fixture pvlockinfo_klp_fixture.ko) already replaces the
# kernel's spinlock slow path.  "modprobe pvlockinfo takeover=1" must
# still load pvlockinfo, in non-takeover mode, say why in the kernel log
# and in debugfs status; a runtime "echo 1" to the switch must fail; the
# takeover module loaded by hand must refuse with the same reason; and
# pvlockinfo's own locks must work.
#
# Then the refusals a kernel command line can trigger in our TCG guest,
# one boot each, with the takeover module loaded by hand:
#  - nohz_full=1 (the guest kernel has NO_HZ_FULL): refused for its one
#    nohz_full CPU;
#  - clearcpuid=hypervisor: no hypervisor bit, so the kernel never turns
#    virt_spin_lock_key on (native_pv_lock_init()); refused as "not a
#    guest", the first reason in the list, and the module's facts line
#    shows that its probe found the key off (in the other boots: on).
# virt_spin_lock_key off WITH the hypervisor bit cannot be had under TCG:
# the kernel turns the key off only in kvm_spinlock_init() (KVM's
# nopvspin, REALTIME hint, one CPU or pv spinlocks on) and in Xen's, and
# neither runs without KVM's or Xen's CPUID leaves, which TCG does not
# offer; tests/unit/test_tk_refuse covers that entry of the list.
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
# The slowpath entry probes the slow path alone, which the fixture patches.
insmod "$(find /lib/modules -name pvlockinfo_takeover.ko)" entry=slowpath 2>/dev/null; echo "slowpath-rc=$?"
grep "^takeover:" /sys/kernel/debug/pvlockinfo/status | sed "s/^/status-slowpath: /"
[ -e /sys/kernel/livepatch/pvlockinfo_takeover ] && echo "takeover-patch-present"
modprobe pvlockinfo_test || exit 10
pvlock-bench -p shfl-pv -d 300 >/dev/null; echo "bench-rc=$?"
dmesg | grep -E "pvlockinfo(_takeover)?: (takeover|facts)" | sed "s/^/dmesg: /"
') || fail "guest run failed (exit $?): $out"
echo "$out"

expect_eq "modprobe pvlockinfo takeover=1 with another livepatch present" \
	"$(echo "$out" | sed -n 's/^modprobe-rc=//p')" 0
echo "$out" | matches '^status: takeover: off (not applied); last refusal: another livepatch (or ftrace IPMODIFY user) already patches native_queued_spin_lock_slowpath' ||
	fail "debugfs status does not give the reason: $(echo "$out" | grep '^status:')"
expect_eq "takeover switch after the refusal" "$(echo "$out" | sed -n 's/^switch=//p')" 0
[ "$(echo "$out" | sed -n 's/^echo1-rc=//p')" != 0 ] || fail "echo 1 > takeover succeeded though the takeover cannot apply"
expect_eq "takeover switch after a refused echo 1" "$(echo "$out" | sed -n 's/^switch-after=//p')" 0
[ "$(echo "$out" | sed -n 's/^direct-rc=//p')" != 0 ] || fail "modprobe pvlockinfo_takeover succeeded on top of another livepatch"
[ "$(echo "$out" | sed -n 's/^slowpath-rc=//p')" != 0 ] ||
	fail "pvlockinfo_takeover entry=slowpath applied on top of a livepatch of the slow path"
echo "$out" | matches '^status-slowpath: .*last refusal: another livepatch (or ftrace IPMODIFY user) already patches native_queued_spin_lock_slowpath' ||
	fail "the slowpath entry's refusal does not name the slow path: $(echo "$out" | grep '^status-slowpath:')"
echo "$out" | matches '^takeover-patch-present' && fail "the takeover's livepatch is present after the refusal"
echo "$out" | matches "dmesg: .*pvlockinfo: takeover mode not available: another livepatch .*pvlockinfo stays loaded without it" ||
	fail "no clear kernel log line for the refusal"
expect_eq "pvlockinfo's own locks after the refusal" "$(echo "$out" | sed -n 's/^bench-rc=//p')" 0
echo "$out" | matches "dmesg: .*pvlockinfo_takeover: facts: hypervisor 1, 2 CPUs, .*virt_spin_lock_key on, 0 nohz_full CPUs" ||
	fail "the takeover's facts line is missing or wrong: $(echo "$out" | grep 'facts:')"

# refused_by NAME APPEND: boot with APPEND, load the takeover by hand,
# print its exit code and its facts and refusal lines.
refused_by() {
	vm "takeover-refused-$1" --smp 2 --timeout 120 --append "$2" --run '
cat /proc/cmdline
modprobe pvlockinfo || exit 10
insmod "$(find /lib/modules -name pvlockinfo_takeover.ko)" 2>/dev/null; echo "insmod-rc=$?"
[ -d /sys/module/pvlockinfo_takeover ] && echo "takeover-loaded"
dmesg | grep -E "pvlockinfo_takeover: (takeover refused|facts)" | sed "s/^/dmesg: /"
'
}

out=$(refused_by nohz "nohz_full=1") || fail "nohz_full guest run failed (exit $?): $out"
echo "$out"
[ "$(echo "$out" | sed -n 's/^insmod-rc=//p')" != 0 ] || fail "the takeover applied with a nohz_full CPU"
echo "$out" | matches '^takeover-loaded' && fail "the takeover module stayed loaded with a nohz_full CPU"
echo "$out" | matches "dmesg: .*facts: .*virt_spin_lock_key on, 1 nohz_full CPUs" ||
	fail "facts with nohz_full=1: $(echo "$out" | grep 'facts:')"
echo "$out" | matches "dmesg: .*takeover refused: 1 nohz_full CPU: a halted waiter there has no tick to bound its halt" ||
	fail "no nohz_full refusal in the kernel log"
note "nohz_full=1: refused, the reason logged"

out=$(refused_by nohv "clearcpuid=hypervisor") || fail "clearcpuid=hypervisor guest run failed (exit $?): $out"
echo "$out"
[ "$(echo "$out" | sed -n 's/^insmod-rc=//p')" != 0 ] || fail "the takeover applied without the hypervisor bit"
echo "$out" | matches "dmesg: .*facts: hypervisor 0, 2 CPUs, .*virt_spin_lock_key off," ||
	fail "the virt_spin_lock_key probe did not find the key off: $(echo "$out" | grep 'facts:')"
echo "$out" | matches "dmesg: .*takeover refused: not a guest" || fail "no 'not a guest' refusal in the kernel log"
note "clearcpuid=hypervisor: refused, virt_spin_lock_key probed off"
