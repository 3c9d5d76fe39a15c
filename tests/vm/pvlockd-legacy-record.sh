#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 90
#
# A record written before the QEMU identity line ("qemu PID START") has
# the vCPU thread ids but not the QEMU: a restarted pvlockd learns the
# QEMU over the QMP socket.  If the first try fails for a reason that
# does not mean "QEMU is gone" (here ELOOP: the socket's path is a
# symlink loop for a while), pvlockd tries again each second.  Once it
# learns the QEMU and calls the VM attached, the VM's vCPU threads must
# be registered for its own slot: the start-up reconciliation must not
# have left an "attached" VM whose threads write nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"
fake_vm old 2
xcheck --strict old
slot=$("$PVLOCKCTL" status --json | jq -r '.vms[] | select(.name == "old") | .slot')
tids=($(fake_tids old))
[ ${#tids[@]} = 2 ] || fail "the fake QEMU printed no vCPU thread ids"

kill9_pvlockd
# The record as an older pvlockd wrote it: no qemu and opts lines.
meta=$META_DIR/old.meta
sed -i '/^qemu /d; /^opts /d' "$meta"
grep -q '^tids ' "$meta" || fail "the record has no tids line: $(cat "$meta")"
# The QMP socket unreachable, not gone: connect() fails with ELOOP.
sock=$PVLI_LOGDIR/old.qmp
mv "$sock" "$sock.real"
ln -s "$sock" "$sock"

own_pvlockd || fail "pvlockd did not restart"
sleep 0.3
rm -f "$sock"
mv "$sock.real" "$sock"
for _ in $(seq 40); do attached old && break; sleep 0.1; done
attached old || fail "pvlockd never learned old's QEMU: $("$PVLOCKCTL" status)"
for i in 0 1; do
	got=$(vcpus_entry "${tids[$i]}")
	[ "$got" = "$slot $i" ] ||
		fail "old is listed as attached, but its vCPU $i thread ${tids[$i]} is registered as '$got', not '$slot $i'"
done
xcheck --strict old
note "old (a record without its QEMU, learned on a second try) has its vCPU threads registered"
exit 0
