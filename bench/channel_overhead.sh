#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/channel_overhead.sh: what the channel costs the host scheduler.
#
# Runs a 4-vCPU guest with the channel on 1 host CPU (every vCPU is
# preempted constantly) with kernel.bpf_stats_enabled=1 and prints, per
# BPF program, how often it ran and its mean run time.  The programs run
# on every host scheduler event, vCPU thread or not.
# Target (issue 3): mean <= 300 ns per sched_switch.

set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
secs=10

usage() {
	cat <<EOF
Usage: bench/channel_overhead.sh [--seconds N] [--help]

Needs root and a built tree (make).  Starts pvlockd if it is not running
(and stops it and removes its pins afterwards), runs a loaded 4-vCPU guest
on host CPU 0 for N seconds [$secs], and prints the per-program table.
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) secs=${2:?--seconds needs a value}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "channel_overhead: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

[ -x "$src/build/host/pvlockctl" ] || { echo "channel_overhead: run 'make' first" >&2; exit 1; }
. "$src/host/vm-session.sh"
old=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	sysctl -q kernel.bpf_stats_enabled="$old"
	pvlockd_session_stop
}
trap cleanup EXIT
pvlockd_session_start || exit 1
sysctl -q kernel.bpf_stats_enabled=1

snap() {
	bpftool -j prog show | jq -c '[.[] | select(.name | startswith("pvli_")) |
		{name, run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]'
}

before=$(snap)
"$src/host/pvlock-qemu" -q --smp 4 --host-cpus 0 --channel on --run "
for i in 1 2 3 4; do (while :; do :; done) & done
sleep $secs" || { echo "channel_overhead: the guest run failed" >&2; exit 1; }
after=$(snap)

echo "BPF cost per event: 4 busy vCPUs on 1 host CPU for ${secs}s (kernel.bpf_stats_enabled=1)"
printf '%-22s %12s %14s %10s\n' program runs run_time_ms mean_ns
jq -r --argjson b "$before" '.[] as $a | ([$b[] | select(.name == $a.name)][0] // {run_cnt: 0, run_time_ns: 0}) as $o |
	($a.run_cnt - $o.run_cnt) as $n | ($a.run_time_ns - $o.run_time_ns) as $t |
	select($n > 0) | [$a.name, $n, ($t / 1e6), ($t / $n)] | @tsv' <<<"$after" |
	awk -F'\t' '{ printf "%-22s %12d %14.2f %10.0f\n", $1, $2, $3, $4 }'
