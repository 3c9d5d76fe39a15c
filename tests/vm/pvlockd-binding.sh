#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 90
#
# pvlockd registers as a VM's vCPUs only threads of the QEMU process on
# the other end of the QMP socket (its SO_PEERCRED pid): a QEMU that
# names a thread of another process is refused, and one in another PID
# namespace, whose thread ids are its namespace's, gets them translated
# to the host's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"

# A QEMU that reports this shell (another process) as vCPU 0's thread.
reply=$("$PVLOCKCTL" register liar 2 tcg) || fail "register: $reply"
fake_start liar 2 --map-pin "$(cut -d' ' -f2 <<<"$reply")" --mode lie --lie-tid $$
out=$("$PVLOCKCTL" attach liar "$PVLI_LOGDIR/liar.qmp" 2>&1) &&
	fail "a QEMU naming thread $$ of another process was attached: $out"
grep -q "not a thread of" <<<"$out" || fail "refused without the reason: $out"
[ -z "$(vcpus_entry $$)" ] || fail "thread $$ of another process got registered"
note "refused: $out"

"$PVLOCKCTL" unregister liar >/dev/null || fail "unregister liar failed"

# A QEMU in a PID namespace of its own.
reply=$("$PVLOCKCTL" register nspid 2 tcg) || fail "register: $reply"
sock=$PVLI_LOGDIR/nspid.qmp
# unshare ignores SIGTERM while it waits, and the fake QEMU is the
# namespace's init: SIGKILL unshare, and --kill-child takes the fake
# with it (also when the test itself is killed).
unshare --pid --fork --kill-child --mount-proc "$FAKE_QEMU" --qmp "$sock" --vcpus 2 \
	--map-pin "$(cut -d' ' -f2 <<<"$reply")" >"$PVLI_LOGDIR/nspid.fake" 2>&1 &
outer=$!
at_exit 'kill -KILL $outer 2>/dev/null; wait $outer 2>/dev/null'
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "the namespaced fake QEMU did not come up: $(cat "$PVLI_LOGDIR/nspid.fake")"
host_pid=$(pgrep -P $outer)
[ -n "$host_pid" ] || fail "no fake QEMU under unshare ($outer)"
FAKE_PID[nspid]=$host_pid
ns_tids=$(fake_tids nspid)
out=$("$PVLOCKCTL" attach nspid "$sock" 2>&1) || fail "attach in a PID namespace failed: $out"
want=
for t in $ns_tids; do
	for st in /proc/$host_pid/task/*/status; do
		if [ "$(awk '/^NSpid:/ { print $NF }' "$st")" = "$t" ]; then
			want+="$(awk '/^NSpid:/ { print $2 }' "$st") "
		fi
	done
done
note "vCPU threads: $ns_tids in the namespace, $want on the host"
i=0
for t in $want; do
	e=$(vcpus_entry "$t")
	[ "${e#* }" = "$i" ] || fail "host thread $t (vCPU $i) is registered as '$e'"
	i=$((i + 1))
done
[ $i = 2 ] || fail "found $i of 2 vCPU threads on the host"
xcheck --strict nspid
note "a QEMU in another PID namespace had its thread ids translated"
