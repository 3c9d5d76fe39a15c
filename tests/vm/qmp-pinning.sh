#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# A running VM has a QMP socket in its run directory that answers
# query-cpus-fast with one thread per vCPU, and --host-cpus pins every
# QEMU thread (vCPU threads included) to the given CPUs.
. "$(dirname "$0")/lib.sh"

name=t-qmp-$$
rundir=/run/pvlockinfo/qemu/$name
vm_out=$PVLI_LOGDIR/vm.out
"$WRAPPER" -q --name "$name" --smp 3 --host-cpus 0 --console-log "$PVLI_LOGDIR/qmp.console" \
	--run 'sleep 2; echo done' >"$vm_out" 2>&1 &
wrapper=$!

pid=$(vm_wait_qemu "$name" $wrapper 10) || fail "QEMU did not come up: $(cat "$vm_out")"

reply=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-cpus-fast"}' |
	socat -t 2 - "UNIX-CONNECT:$rundir/qmp.sock")
cpus=$(grep '"return": \[' <<<"$reply" | jq '.return | length')
expect_eq "vCPUs reported by query-cpus-fast" "$cpus" 3
tids=$(grep '"return": \[' <<<"$reply" | jq -r '.return[]."thread-id"')

for task in /proc/"$pid"/task/*; do
	tid=${task##*/}
	aff=$(taskset -pc "$tid" | sed 's/.*: //')
	[ "$aff" = 0 ] || fail "QEMU thread $tid ($(cat "$task/comm")) has affinity '$aff', want 0"
done
for t in $tids; do
	[ -d "/proc/$pid/task/$t" ] || fail "vCPU thread $t from QMP is not a thread of QEMU $pid"
done
note "all $(ls /proc/"$pid"/task | wc -l) QEMU threads pinned to CPU 0; vCPU threads: $(echo $tids)"

wait $wrapper || fail "the VM run failed: $(cat "$vm_out")"
expect_eq "command output" "$(cat "$vm_out")" done
