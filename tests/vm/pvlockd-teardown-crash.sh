#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 90
#
# pvlockd killed in the middle of a teardown (PVLOCKD_FAULT=
# teardown-detached: the VM's vCPU registrations deleted, its slot, pin
# and record not yet) while the VM's QEMU lives on (the teardown is an
# unregister).  The restarted pvlockd must end in a consistent state:
# the VM removed (no pin, no record), or the VM attached with every vCPU
# thread registered for its own slot; never "attached" with threads that
# write nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"
fake_vm t 2
fake_vm other 1
xcheck --strict t other
kill9_pvlockd
PVLOCKD_FAULT=teardown-detached own_pvlockd || fail "pvlockd did not restart"
attached t || fail "t was not re-adopted before the fault: $("$PVLOCKCTL" status)"
"$PVLOCKCTL" unregister t >/dev/null 2>&1
wait_pvlockd_dead 5 || fail "pvlockd did not kill itself at teardown-detached"
own_pvlockd || fail "pvlockd did not restart after the fault"

if listed t; then
	slot=$("$PVLOCKCTL" status --json | jq -r '.vms[] | select(.name == "t") | .slot')
	tids=($(fake_tids t))
	for i in 0 1; do
		got=$(vcpus_entry "${tids[$i]}")
		[ "$got" = "$slot $i" ] ||
			fail "t is listed again, but its vCPU $i thread ${tids[$i]} is registered as '$got', not '$slot $i'"
	done
	xcheck --strict t other
	note "t (teardown interrupted) re-adopted with its registrations"
else
	[ -e "$PIN_VMS/t" ] && fail "t is not listed, but its page is still pinned"
	[ -e "$META_DIR/t.meta" ] && fail "t is not listed, but its record is still there"
	xcheck --strict other
	note "t (teardown interrupted) removed at restart"
fi
attached other || fail "other was not re-adopted: $("$PVLOCKCTL" status)"
exit 0
