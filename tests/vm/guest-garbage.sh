#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# A hostile guest cannot disturb another VM's channel or pvlockd: guest G
# writes garbage into its page's header and host halves as fast as it
# can (pvli-bar scribble), while guest H, on the same host CPU, runs
# channel-agreement's check: 4 vCPUs read their own records 1M times each
# and must only see themselves running, and with H paused its page and
# the BPF program's private counts agree exactly.  Meanwhile pvlockd is
# killed -9 and restarted: it re-adopts G (it does not trust the header G
# scribbled on) and H.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"
. "$(dirname "$0")/agreement-lib.sh"

own_pvlockd || fail "pvlockd did not start"
g=t-garbage-$$
h=t-honest-$$
"$WRAPPER" -q --name "$g" --smp 2 --host-cpus 0 --channel on \
	--console-log "$PVLI_LOGDIR/garbage.console" --run '
i=0; while [ $i -lt 5 ]; do echo SCRIBBLING; i=$((i + 1)); done
pvli-bar scribble 600	# longer than H can take on a slow host; G is stopped after the checks
echo SCRIBBLED' >"$PVLI_LOGDIR/g.out" 2>&1 &
gpid=$!
at_exit 'kill $gpid 2>/dev/null; wait $gpid 2>/dev/null'
wait_for "$PVLI_LOGDIR/g.out" SCRIBBLING 120 || fail "guest G did not start: $(cat "$PVLI_LOGDIR/g.out")"

"$WRAPPER" -q --name "$h" --smp 4 --host-cpus 0 --channel on \
	--console-log "$PVLI_LOGDIR/honest.console" --run '
modprobe pvlockinfo_test || exit 1
grep -q "^available: yes" /sys/kernel/debug/pvlockinfo/status ||
	{ cat /sys/kernel/debug/pvlockinfo/status; exit 1; }
echo READING
echo 1000000 >/sys/kernel/debug/pvlockinfo/selftest_own || exit 1
cat /sys/kernel/debug/pvlockinfo/selftest_own
for i in $(seq 30); do echo SELFTEST-DONE $i; sleep 1; done' >"$PVLI_LOGDIR/h.out" 2>&1 &
hpid=$!
at_exit 'kill $hpid 2>/dev/null; wait $hpid 2>/dev/null'
wait_for "$PVLI_LOGDIR/h.out" READING 150 || fail "guest H did not start: $(cat "$PVLI_LOGDIR/h.out")"

# Restart pvlockd under the scribbling.
kill9_pvlockd
own_pvlockd || fail "pvlockd did not restart while G scribbled"
attached "$g" || fail "the scribbling VM was not re-adopted: $("$PVLOCKCTL" status)"
attached "$h" || fail "H was not re-adopted"
note "pvlockd restarted under the scribbling; both VMs re-adopted"
gq=$(cat "/run/pvlockinfo/qemu/$g/qemu.pid") hq=$(cat "/run/pvlockinfo/qemu/$h/qemu.pid")
xcheck --strict "$g=$gq" "$h=$hq"

wait_for "$PVLI_LOGDIR/h.out" SELFTEST-DONE 240 ||
	fail "H's self-test did not finish: $(cat "$PVLI_LOGDIR/h.out")"
grep -q SCRIBBLED "$PVLI_LOGDIR/g.out" && fail "G stopped scribbling before H's check"
own_reads_ok "$PVLI_LOGDIR/h.out" 4 1000000
note "H: 4M own-record reads next to the scribbler: no violation, no failure"

paused_status "$h"
status=$STATUS
for cpu in 0 1 2 3; do page_agrees "$status" "$h" $cpu; done
gv=$(jq -c --arg n "$g" '[.vms[] | select(.name == $n) | .vcpus[].counters.dropped] | add' <<<"$status")
note "G's own updates dropped while it held its seqs odd: $gv"
# Done with both guests: all that could fail in H (the module, the
# self-test) has printed by its first marker, and its loop only kept it
# up for the checks.
kill $gpid $hpid 2>/dev/null
wait $gpid $hpid 2>/dev/null || :	# TERM: ours; both wrappers cleaned up
