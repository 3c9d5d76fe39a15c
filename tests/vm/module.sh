#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# pvlockinfo.ko from the image loads and unloads cleanly in the guest.
. "$(dirname "$0")/lib.sh"

out=$(vm module --run 'modprobe pvlockinfo && grep -c "^pvlockinfo " /proc/modules &&
	rmmod pvlockinfo && ! grep -q "^pvlockinfo " /proc/modules &&
	dmesg | grep -c "pvlockinfo: \(version .* loaded\|unloaded\)"') ||
	fail "load/unload failed: $out"
expect_eq "module loaded once, unloaded, both logged" "$(echo $out)" "1 2"
