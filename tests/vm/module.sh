#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# pvlockinfo.ko from the image loads and unloads cleanly in the guest, and
# carries only the driver's debugfs files.  pvlockinfo_test.ko, the
# harness, probes and self-test, loads on its own (modprobe pulls the
# driver in), adds its files to the driver's directory, keeps the driver
# loaded while it is, and takes its files away when it goes.
. "$(dirname "$0")/lib.sh"

out=$(vm module --run 'modprobe pvlockinfo && grep -c "^pvlockinfo " /proc/modules &&
	rmmod pvlockinfo && ! grep -q "^pvlockinfo " /proc/modules &&
	dmesg | grep -c "pvlockinfo: \(version .* loaded\|unloaded\)"') ||
	fail "load/unload failed: $out"
expect_eq "module loaded once, unloaded, both logged" "$(echo $out)" "1 2"

out=$(vm module-test --run 'd=/sys/kernel/debug/pvlockinfo
modprobe pvlockinfo || exit 1
echo "driver: $(ls $d | tr "\n" " ")"
rmmod pvlockinfo || exit 1
modprobe pvlockinfo_test || exit 1
echo "loaded: $(grep -o "^pvlockinfo[a-z_]* " /proc/modules | sort | tr -d "\n")"
echo "with-test: $(ls $d | tr "\n" " ")"
rmmod pvlockinfo 2>/dev/null; echo "rmmod-driver-first=$?"
rmmod pvlockinfo_test || exit 1
echo "test-gone: $(ls $d | tr "\n" " ")"
rmmod pvlockinfo || exit 1') || fail "guest run failed: $out"
echo "$out"
expect_eq "debugfs files of the driver alone" "$(echo "$out" | sed -n 's/^driver: //p')" "status vcpus "
expect_eq "modprobe pvlockinfo_test loads the driver first" \
	"$(echo "$out" | sed -n 's/^loaded: //p')" "pvlockinfo pvlockinfo_test "
expect_eq "debugfs files with the test module" "$(echo "$out" | sed -n 's/^with-test: //p')" \
	"bench hold lockcost quota selftest_own status tsc_order vcpus watch "
[ "$(echo "$out" | sed -n 's/^rmmod-driver-first=//p')" != 0 ] ||
	fail "pvlockinfo.ko unloaded while pvlockinfo_test.ko used it"
expect_eq "debugfs files once the test module is gone" "$(echo "$out" | sed -n 's/^test-gone: //p')" \
	"status vcpus "
