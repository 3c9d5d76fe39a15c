#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# pvlockd killed -9 in the middle of a request (PVLOCKD_FAULT makes it
# kill itself at a named point) and restarted: the half-done request
# leaves no page, pin, slot or thread registration behind that a later
# VM could inherit, and the VMs that were live stay live.
#   register-installed  page created, pinned and in its slot; no state file yet
#   attach-registered   vCPU threads registered; the state file not updated
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"
fake_vm live 2

# Mid-register.
kill9_pvlockd
PVLOCKD_FAULT=register-installed own_pvlockd || fail "pvlockd did not start"
out=$("$PVLOCKCTL" register half 2 tcg 2>&1) && fail "register answered '$out' though pvlockd was to die"
wait_pvlockd_dead 5 || fail "pvlockd did not kill itself at register-installed"
note "pvlockd died mid-register: $out"
# A kill inside a record save leaves NAME.meta.tmp: the restart drops it
# and keeps the record it was to replace.
echo "half-written" >"$META_DIR/live.meta.tmp"
own_pvlockd || fail "pvlockd did not restart"
[ -e "$META_DIR/live.meta.tmp" ] && fail "an unfinished record save (live.meta.tmp) survived the restart"
listed half && fail "the half-registered VM is listed after the restart"
[ -e "$PIN_VMS/half" ] && fail "the half-registered VM's page is still pinned"
attached live || fail "the live VM was not re-adopted"
fake_vm next 2
xcheck --strict live next
note "nothing of the half-registered VM is left; the next VM got a clean slot"

# Mid-attach.
kill9_pvlockd
PVLOCKD_FAULT=attach-registered own_pvlockd || fail "pvlockd did not start"
reply=$("$PVLOCKCTL" register mid 2 tcg) || fail "register mid: $reply"
fake_start mid 2 --map-pin "$(cut -d' ' -f2 <<<"$reply")"
out=$("$PVLOCKCTL" attach mid "$PVLI_LOGDIR/mid.qmp" 2>&1) && fail "attach answered '$out' though pvlockd was to die"
wait_pvlockd_dead 5 || fail "pvlockd did not kill itself at attach-registered"
note "pvlockd died mid-attach: $out"
own_pvlockd || fail "pvlockd did not restart"
# Either the restart finishes the attach, or mid stays registered
# without threads until it attaches again; never half of each.
for _ in $(seq 30); do attached mid && break; sleep 0.1; done
if attached mid; then
	note "the restarted pvlockd finished mid's attach"
else
	for t in $(fake_tids mid); do
		[ -z "$(vcpus_entry "$t")" ] || fail "mid is not attached, but its thread $t is registered"
	done
	"$PVLOCKCTL" attach mid "$PVLI_LOGDIR/mid.qmp" >/dev/null || fail "mid cannot attach again"
fi
attached live || fail "the live VM was not re-adopted"
kill -TERM "${FAKE_PID[next]}"
for _ in $(seq 30); do listed next || break; sleep 0.1; done
fake_vm after 2
xcheck --strict live mid after
note "after the mid-attach crash every registration belongs to its own VM"
