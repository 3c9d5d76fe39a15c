#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# A restarted pvlockd (after kill -9) re-adopts every live VM, drops the
# dead ones and never lets one VM's vCPU threads write into another's
# page, whatever it finds: a live VM whose state file is gone, a QEMU
# that died while no pvlockd ran, a QEMU stopped (SIGSTOP) during the
# re-adoption.  The VMs are fake QEMUs (real threads, a QMP socket).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"

# 1. A live VM's state file is lost; pvlockd restarts; a new VM comes.
fake_vm a 2
xcheck --strict a
rm -f "$META_DIR/a.meta"
kill9_pvlockd
own_pvlockd || fail "pvlockd did not restart"
fake_vm b 2
xcheck b
# a: re-adopted from its pins and threads, or removed with all it had.
maybe_a() { [ -e "$PIN_VMS/a/page" ] && echo a; }
if [ -n "$(maybe_a)" ]; then
	listed a || fail "a's page is still pinned, but pvlockd does not list a"
	note "a (state file lost) re-adopted from its pins and threads; b got its own slot"
else
	note "a (state file lost) removed at restart; b got a clean slot"
fi
xcheck --strict b $(maybe_a)

# 2. A QEMU dies while no pvlockd runs.
fake_vm c 2
kill9_pvlockd
kill -KILL "${FAKE_PID[c]}"
wait "${FAKE_PID[c]}" 2>/dev/null
own_pvlockd || fail "pvlockd did not restart"
listed c && fail "c's QEMU died while pvlockd was down, but it is still listed"
[ -e "$PIN_VMS/c" ] && fail "c's page is still pinned"
fake_vm d 2
xcheck --strict b d $(maybe_a)
note "c (dead while pvlockd was down) removed; d registered cleanly"

# 3. A QEMU stopped (SIGSTOP) while pvlockd re-adopts it: still live.
kill -STOP "${FAKE_PID[d]}"
kill9_pvlockd
start=$(date +%s%N)
own_pvlockd || fail "pvlockd did not restart with a stopped QEMU"
ms=$((($(date +%s%N) - start) / 1000000))
# How long pvlockd takes to answer while d stays stopped (the target is
# 100 ms at most; printed, not asserted: the machine may be busy).
lat=$("$CTL_LATENCY" --duration 2 --interval 0.01 --timeout 5)
kill -CONT "${FAKE_PID[d]}"
note "pvlockd's answers every 10 ms for 2 s with d stopped: $lat"
[ "$(jq -r .failed <<<"$lat")" = 0 ] || fail "status requests failed while d was stopped"
attached d || fail "d (stopped during the re-adoption) was not re-adopted as attached: $("$PVLOCKCTL" status)"
attached b || fail "b was not re-adopted: $("$PVLOCKCTL" status)"
[ $ms -lt 2000 ] || fail "pvlockd took $ms ms to answer with a stopped QEMU"
note "a stopped QEMU did not hold up the restart ($ms ms until pvlockd answered) and was re-adopted"
xcheck --strict b d $(maybe_a)

# Every fake's exit is still noticed by the new pvlockd.
kill -TERM "${FAKE_PID[b]}"
for _ in $(seq 30); do listed b || break; sleep 0.1; done
listed b && fail "the re-adopted VM b exited, but pvlockd still lists it"
note "b's exit noticed"
