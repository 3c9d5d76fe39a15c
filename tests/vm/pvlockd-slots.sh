#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# pvlockd's bookkeeping of slots, names and thread registrations:
#  - a state file that cannot be saved fails the request, which leaves
#    nothing behind (a restart could not re-adopt what it does not know);
#  - a VM that registers and never attaches loses its slot and name after
#    --attach-timeout;
#  - a vCPU thread id that another VM's vCPU reuses after the first
#    thread exited stays registered for the new VM when the old VM goes
#    (registrations are deleted only if they still name the old VM).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"

# State that cannot be saved: the state directory is a file for a moment.
fake_vm keep 2
saved=$META_DIR.saved-$$
mv "$META_DIR" "$saved" && : >"$META_DIR" || fail "cannot replace $META_DIR"
restore_meta() { [ -d "$saved" ] || return 0; rm -f "$META_DIR"; mv "$saved" "$META_DIR"; }
at_exit restore_meta
out=$("$PVLOCKCTL" register nosave 2 tcg 2>&1)
rc=$?
restore_meta
[ $rc -ne 0 ] || fail "register succeeded though its state could not be saved: $out"
grep -q "cannot save" <<<"$out" || fail "register failed without saying why: $out"
listed nosave && fail "the VM whose state was not saved is listed"
[ -e "$PIN_VMS/nosave" ] && fail "the VM whose state was not saved left its page pinned"
note "register with unsaveable state: '$out', nothing left"

reply=$("$PVLOCKCTL" register nosave2 2 tcg) || fail "register nosave2: $reply"
fake_start nosave2 2 --map-pin "$(cut -d' ' -f2 <<<"$reply")"
mv "$META_DIR" "$saved" && : >"$META_DIR" || fail "cannot replace $META_DIR"
out=$("$PVLOCKCTL" attach nosave2 "$PVLI_LOGDIR/nosave2.qmp" 2>&1)
rc=$?
restore_meta
[ $rc -ne 0 ] || fail "attach succeeded though its state could not be saved: $out"
for t in $(fake_tids nosave2); do
	[ -z "$(vcpus_entry "$t")" ] || fail "attach failed, but thread $t stayed registered"
done
note "attach with unsaveable state: '$out', no thread left registered"
"$PVLOCKCTL" unregister nosave2 >/dev/null

# Thread-id reuse: old's vCPU 0 thread exits, new's vCPU 0 gets its id.
fake_vm old 2 --exit-vcpu-after 1
tid=$(fake_tids old | cut -d' ' -f1)
slot_old=$(vcpus_entry "$tid" | cut -d' ' -f1)
[ -n "$slot_old" ] || fail "old's vCPU 0 thread $tid is not registered"
for _ in $(seq 30); do [ -d "/proc/${FAKE_PID[old]}/task/$tid" ] || break; sleep 0.1; done
[ -z "$(vcpus_entry "$tid")" ] || fail "thread $tid exited but is still registered"
fake_vm new 2 --want-tid "$tid"
[ "$(fake_tids new | cut -d' ' -f1)" = "$tid" ] || fail "new's vCPU 0 did not get thread id $tid"
entry=$(vcpus_entry "$tid")
slot_new=${entry% *}
[ "$slot_new" != "$slot_old" ] || fail "new was given old's slot $slot_old while old lives"
"$PVLOCKCTL" unregister old >/dev/null || fail "unregister old failed"
expect_eq "registration of reused thread $tid after old went" "$(vcpus_entry "$tid")" "$slot_new 0"
xcheck --strict keep new

# Registered, never attached (the restart keeps the live VMs).
kill9_pvlockd
own_pvlockd --attach-timeout 3 || fail "pvlockd did not start with --attach-timeout"
"$PVLOCKCTL" register never 1 tcg >/dev/null || fail "register never failed"
listed never || fail "a VM just registered is not listed"
# Dropped at 3 s, on pvlockd's tick: polled up to 15 s for a busy host,
# and not before 2.5 s (the drop is the timeout's, not an immediate one).
t0=$(date +%s%N)
for _ in $(seq 150); do listed never || break; sleep 0.1; done
waited_ms=$((($(date +%s%N) - t0) / 1000000))
listed never && fail "a VM that never attached still holds its slot 15 s after --attach-timeout 3"
[ $waited_ms -ge 2500 ] || fail "a VM that never attached was dropped after ${waited_ms} ms, before --attach-timeout 3"
[ -e "$PIN_VMS/never" ] && fail "a VM that never attached left its page pinned"
[ -e "$META_DIR/never.meta" ] && fail "a VM that never attached left its state file"
note "a VM that never attached was dropped after the timeout (seen gone after ${waited_ms} ms)"
attached keep || fail "the attached VM was dropped too"
