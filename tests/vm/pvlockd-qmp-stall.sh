#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# A QEMU that misbehaves on QMP cannot stall pvlockd: each attach
# exchange has one deadline and runs in the event loop without blocking
# it.  Fake QEMUs stop answering, dribble one byte per 50 ms, flood
# events, send garbage or a 1 MiB line, or are SIGSTOPped; meanwhile
# ctl-latency times pvlockd's answers to "status" every 10 ms.  Every
# bad attach must end (refused, in about the deadline), no answer may
# take 250 ms or more, and an attached VM keeps its channel.  (Measured
# here: answers 9-26 ms, the loop's longest step 27-43 ms, wall clock
# with the host's descheduling in it; a loop blocked on one of these
# QEMUs would stall for its deadline, seconds.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

LIMIT_MS=250
own_pvlockd || fail "pvlockd did not start"
fake_vm good 2

"$CTL_LATENCY" --interval 0.01 >"$PVLI_LOGDIR/latency.json" &
prober=$!
at_exit 'kill $prober 2>/dev/null'
sleep 0.5

# try_attach MODE [fake-qemu ARGS]: attach a fake QEMU misbehaving in MODE;
# prints the reply and how long it took.
try_attach() {
	local mode=$1 name=m-$1 reply start ms rc
	shift
	reply=$("$PVLOCKCTL" register "$name" 2 tcg) || fail "register $name: $reply"
	fake_start "$name" 2 --map-pin "$(cut -d' ' -f2 <<<"$reply")" --mode "$mode" "$@"
	start=$(date +%s%N)
	reply=$("$PVLOCKCTL" attach "$name" "$PVLI_LOGDIR/$name.qmp" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	note "attach of a QEMU in mode $mode: exit $rc after $ms ms: $reply"
	[ $ms -lt 8000 ] || fail "attach in mode $mode took $ms ms: no deadline"
	ATTACH_RC=$rc
}

for mode in stall dribble garbage huge; do
	try_attach $mode
	[ "$ATTACH_RC" -ne 0 ] || fail "attach in mode $mode succeeded"
done
reply=$("$PVLOCKCTL" register m-stopped 2 tcg) || fail "register: $reply"
fake_start m-stopped 2 --map-pin "$(cut -d' ' -f2 <<<"$reply")"
kill -STOP "${FAKE_PID[m-stopped]}"
start=$(date +%s%N)
out=$("$PVLOCKCTL" attach m-stopped "$PVLI_LOGDIR/m-stopped.qmp" 2>&1) &&
	fail "attach to a stopped QEMU succeeded: $out"
ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "${FAKE_PID[m-stopped]}"
note "attach of a SIGSTOPped QEMU: refused after $ms ms: $out"
[ $ms -lt 8000 ] || fail "attach to a stopped QEMU took $ms ms"
# A flood of events is not an error, only slow to read.
try_attach flood --events 50000

kill -TERM $prober
wait $prober
lat=$(cat "$PVLI_LOGDIR/latency.json")
note "pvlockd's answers meanwhile: $lat"
max=$(jq -r .max_ms <<<"$lat")
[ "$(jq -r .failed <<<"$lat")" = 0 ] || fail "some status requests failed: $lat"
[ "$(jq -r ".max_ms < $LIMIT_MS" <<<"$lat")" = true ] ||
	fail "pvlockd took $max ms to answer while a QEMU misbehaved (limit $LIMIT_MS ms)"
busy=$("$PVLOCKCTL" status --json | jq -r '.loop.max_busy_us // empty')
if [ -n "$busy" ]; then
	note "pvlockd's own longest event-loop step: $busy us"
	[ "$busy" -lt $((LIMIT_MS * 1000)) ] || fail "an event-loop step took $busy us"
fi
attached good || fail "the well-behaved VM lost its attachment"
xcheck good
note "longest answer while QEMUs misbehaved: $max ms (limit $LIMIT_MS ms)"
