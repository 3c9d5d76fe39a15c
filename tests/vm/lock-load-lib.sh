# SPDX-License-Identifier: GPL-2.0-only
# The kernel-lock-heavy guest load of the takeover transition tests and
# of the ftrace toggle reproduction; sourced after lib.sh.
#
# LOAD_START (guest shell, pasted into a --run script): loads the driver
# and the test module, then starts 8 shells forking, exec'ing, piping and
# reading /proc, and the in-kernel harness hammering one spinlock_t from
# a kthread per vCPU (pvlock-bench -p native, spin_lock()) back to back,
# 1 s runs, each checking mutual exclusion.  LOAD_STOP stops the harness,
# prints its runs ("bench N rc=RC JSON") and "load-alive=N" (shells still
# running), and stops the shells.  check_load checks that output.

LOAD_START='
modprobe pvlockinfo || exit 10
modprobe pvlockinfo_test || exit 10	# pvlock-bench
for i in $(seq 50); do grep -q "available: yes" /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
pids=
for i in $(seq 8); do
	( while :; do echo x | cat >/dev/null; ls /proc/self/ >/dev/null; head -c 4096 /proc/stat >/dev/null; done ) &
	pids="$pids $!"
done
rm -f /tmp/stop
( n=0; while [ ! -e /tmp/stop ]; do
	n=$((n + 1)); pvlock-bench -p native -d 1000 >/tmp/b.json; rc=$?
	echo "bench $n rc=$rc $(tr -d "\n" </tmp/b.json)"
done ) >/tmp/bench.log 2>&1 &
bench=$!
sleep 1
'

LOAD_STOP='
touch /tmp/stop
wait $bench
cat /tmp/bench.log
alive=0
for pid in $pids; do kill -0 $pid 2>/dev/null && alive=$((alive + 1)); done
echo "load-alive=$alive"
kill $pids 2>/dev/null
wait
'

# check_load TAG OUTPUT MIN-RUNS: at least MIN-RUNS harness runs, all of
# them completed with 0 mutual-exclusion violations, all 8 shells alive.
check_load() {
	local tag=$1 out=$2 min=$3 n bad
	n=$(echo "$out" | grep -c '^bench [0-9]* ')
	[ "$n" -ge "$min" ] || fail "$tag: only $n harness runs (want at least $min)"
	bad=$(echo "$out" | grep '^bench [0-9]* ' | grep -vc ' rc=0 ')
	expect_eq "$tag: harness runs that failed" "$bad" 0
	bad=$(echo "$out" | grep '^bench [0-9]* ' | sed 's/^bench [0-9]* rc=0 //' | jq -s '[.[].violations] | add')
	expect_eq "$tag: mutual-exclusion violations over $n runs" "$bad" 0
	expect_eq "$tag: load shells still running" "$(echo "$out" | sed -n 's/^load-alive=//p')" 8
}
