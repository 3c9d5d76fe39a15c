#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 90
#
# A vCPU thread that exits between pvlockd's check that it is QEMU's
# thread and the insert of its registration (PVLOCKD_FAULT=
# sleep:attach-checked holds pvlockd in that gap for 2 s while the fake
# QEMU's vCPU 0 exits).  The exit came before the entry existed, so the
# BPF program could not delete it: the entry would outlive the thread,
# and another VM's vCPU that reuses the id would write into this VM's
# page.  The attach must fail and leave no registration behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

PVLOCKD_FAULT=sleep:attach-checked own_pvlockd || fail "pvlockd did not start"
reply=$("$PVLOCKCTL" register x 2 tcg) || fail "register x: $reply"
pin=$(cut -d' ' -f2 <<<"$reply")
fake_start x 2 --map-pin "$pin" --exit-vcpu-after 1
tids=($(fake_tids x))
[ ${#tids[@]} = 2 ] || fail "fake QEMU x printed no vCPU thread ids"
if out=$("$PVLOCKCTL" attach x "$PVLI_LOGDIR/x.qmp" 2>&1); then
	attached=yes
else
	attached=no
fi
[ -e "/proc/${FAKE_PID[x]}/task/${tids[0]}" ] &&
	fail "vCPU 0's thread ${tids[0]} did not exit during the attach (the test's window)"
got=$(vcpus_entry "${tids[0]}")
[ -z "$got" ] ||
	fail "vCPU 0's thread ${tids[0]} exited during the attach, but is registered as '$got' (attach: $attached, $out)"
got=$(vcpus_entry "${tids[1]}")
[ "$attached" = yes ] || [ -z "$got" ] ||
	fail "the attach failed ($out), but vCPU 1's thread ${tids[1]} is registered as '$got'"
[ "$attached" = no ] || fail "the attach of a VM whose vCPU thread exited succeeded: $out"
note "attach refused: $out"
exit 0
