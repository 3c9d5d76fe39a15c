#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# pvlock-qemu --cgroup DIR starts QEMU inside the cgroup: every QEMU
# thread, the vCPU threads included, is in DIR, and DIR's CFS cap
# throttles it.  A DIR that is not a cgroup is a usage error (exit 2)
# whose message says what is wrong, and nothing is started.
. "$(dirname "$0")/lib.sh"

need_root
[ -f /sys/fs/cgroup/cgroup.controllers ] || [ -d /sys/fs/cgroup/cpu ] ||
	skip "no cpu cgroup controller (neither cgroup v2 nor v1 cpu is mounted)"

# Refusals first: nothing may boot.
for bad in "/nonexistent-$$:no such directory" "$PVLI_LOGDIR:is not a cgroup directory"; do
	dir=${bad%%:*} want=${bad#*:}
	msg=$("$WRAPPER" -q --name "t-cgbad-$$" --cgroup "$dir" --run true 2>&1)
	expect_eq "exit status of --cgroup $dir" "$?" 2
	grep -q "^pvlock-qemu: error: --cgroup '$dir'.*$want" <<<"$msg" ||
		fail "--cgroup $dir: no clear message ('$want'): $msg"
	[ ! -e "/run/pvlockinfo/qemu/t-cgbad-$$" ] || fail "--cgroup $dir: a run directory was created"
done

# Half a CPU for two busy vCPUs: the cap must bite.
cg=$(cgroup_cap "pvli-test-$$" 50000 100000) || fail "cannot create a capped cgroup"
at_exit 'cgroup_uncap "$cg"'
rel=/pvli-test-$$
name=t-cgroup-$$
out=$PVLI_LOGDIR/vm.out
# Not through vm(): a background function runs in a subshell, and killing
# that would leave pvlock-qemu running.
"$WRAPPER" -q --name "$name" --console-log "$PVLI_LOGDIR/cgroup.console" \
	--smp 2 --host-cpus 0-1 --cgroup "$cg" --channel off --timeout 90 \
	--run '(while :; do :; done) & (while :; do :; done) & echo UP; sleep 2; echo done' >"$out" 2>&1 &
wrapper=$!
at_exit 'kill $wrapper 2>/dev/null; wait $wrapper 2>/dev/null'

qpid=$(vm_wait_qemu "$name" $wrapper 30) || fail "QEMU did not come up: $(cat "$out")"
wait_for "$out" UP 60 || fail "the guest did not boot under the cap: $(cat "$out")"
tids=$(vm_vcpu_tids "$name") || fail "no vCPU threads from QMP"

# /proc/PID/task/TID/cgroup: "N:cpu[,...]:/PATH" (v1) or "0::/PATH" (v2).
in_cg() {
	grep -Eq "^[0-9]+:([^:]*,)?cpu(,[^:]*)?:$rel\$|^0::$rel\$" "/proc/$qpid/task/$1/cgroup"
}
n=0
for task in /proc/"$qpid"/task/*; do
	t=${task##*/}
	in_cg "$t" || fail "QEMU thread $t ($(cat "$task/comm")) is not in $cg: $(cat "$task/cgroup" | tr '\n' ' ')"
	n=$((n + 1))
done
for t in $tids; do
	[ -d "/proc/$qpid/task/$t" ] || fail "vCPU thread $t from QMP is not a thread of QEMU $qpid"
done
note "all $n QEMU threads in $cg, vCPU threads $(echo $tids) among them"

wait $wrapper || fail "the capped VM run failed: $(cat "$out")"
wrapper=
expect_eq "capped guest's output" "$(tr '\n' ' ' <"$out")" "UP done "
throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$cg/cpu.stat")
[ "${throttled:-0}" -gt 0 ] || fail "the cap never throttled QEMU (cpu.stat: $(tr '\n' ' ' <"$cg/cpu.stat"))"
note "the cap throttled QEMU in $throttled periods"
