#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# lock_policies.sh: every lock policy side by side in the guest harness,
# at 1x, 2x and 4x vCPU oversubscription, repeated and interleaved.

set -u -o pipefail

usage() {
	cat <<'USAGE'
Usage: bench/lock_policies.sh [OPTION]...

Boots one guest per configuration and runs the pvlockinfo.ko lock harness
for every policy in it, interleaved (A B C .. A B C ..) so that machine
drift hits all policies alike; then prints medians, min-max and ratios,
and the lock issue's targets with the figures measured.

Configurations (host CPUs are pinned with taskset):
  1x   2 vCPUs on host CPUs 0-1
  2x   4 vCPUs on host CPUs 0-1
  4x   4 vCPUs on host CPU 0

Options:
  --configs LIST     which configurations [1x,2x,4x]
  --policies LIST    [native,mcs,shfl,pvspin,shfl-pv,shfl-quota]
  --reps N           repetitions per policy and configuration [3]
  --duration-ms MS   length of each run [3000]
  --cs-ns NS         critical section [1000]
  --ncs-ns NS        work between acquisitions [1000]
  --out DIR          where results.jsonl and summary.txt go
                     [results/locks-DATE]
  -h, --help         this help

Builds what is missing first (make), and starts pvlockd for the channel if
it is not running (stopping it again at the end).
USAGE
}

configs=1x,2x,4x
policies=native,mcs,shfl,pvspin,shfl-pv,shfl-quota
reps=3 dur=3000 cs=1000 ncs=1000 out=
while [ $# -gt 0 ]; do
	case "$1" in
	--configs) configs=$2; shift ;;
	--policies) policies=$2; shift ;;
	--reps) reps=$2; shift ;;
	--duration-ms) dur=$2; shift ;;
	--cs-ns) cs=$2; shift ;;
	--ncs-ns) ncs=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "lock_policies: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
for n in "$reps" "$dur" "$cs" "$ncs"; do
	case "$n" in ''|*[!0-9]*) echo "lock_policies: '$n' is not a number" >&2; exit 2 ;; esac
done

cd "$(dirname "$0")/.." || exit 1
: "${out:=results/locks-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out" || exit 1

echo "== build (make; configures and installs what is missing the first time)"
make -s all || { echo "lock_policies: build failed" >&2; exit 1; }

. bench/pvlockd_session.sh
. bench/guest_sweep.sh
pvlockd_session_start || exit 1
trap pvlockd_session_stop EXIT

policy_list=$(echo "$policies" | tr , ' ')
nruns=$(( $(echo "$policy_list" | wc -w) * reps ))
for c in $(echo "$configs" | tr , ' '); do
	case "$c" in
	1x) smp=2 cpus=0-1 ;;
	2x) smp=4 cpus=0-1 ;;
	4x) smp=4 cpus=0 ;;
	*) echo "lock_policies: unknown configuration '$c' (1x, 2x, 4x)" >&2; exit 2 ;;
	esac
	secs=$(( nruns * (dur / 1000 + 1) + 15 ))
	echo "== $c: $smp vCPUs on host CPUs $cpus, $nruns runs of ${dur} ms (about ${secs} s)"
	host/pvlock-qemu -q --name "locks-$c-$$" --smp "$smp" --host-cpus "$cpus" \
		--channel on --timeout $(( secs * 3 + 120 )) --console-log "$out/$c.console" \
		--run "$(guest_sweep_cmd "$reps" "$policy_list" "$dur" "$cs" "$ncs" 1 "\"config\":\"$c\"," 50)" |
		tee -a "$out/results.jsonl" | sed -u -n 's/^run /  run /p'
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || echo "lock_policies: the $c guest failed (exit $rc); keeping what it produced" >&2
done

echo
python3 bench/lock_summary.py "$out/results.jsonl" | tee "$out/summary.txt"
echo
echo "raw results: $out/results.jsonl; summary: $out/summary.txt"
