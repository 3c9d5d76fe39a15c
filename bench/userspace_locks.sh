#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/userspace_locks.sh: libpvlock side by side with glibc in one guest.
# For each configuration, boots a guest with the channel and runs
# pvlock-usweep (guest/tools): glibc's default and adaptive mutexes,
# libpvlock with guest-only knowledge and with both levels, on a
# contended microbenchmark and on Debian's sysbench; then the report
# (bench/userspace_report.py).  The main job (bench/vcpu_oversub.sh) runs
# it as its "userspace" part.

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
prog=userspace_locks
. "$here/lib/progress.sh"

configs=1x,2x,4x,8v
workloads=micro,sysbench-threads,sysbench-mutex
reps=2 dur=2000 out= setup=yes report=yes plan_only=no progress=

usage() {
	cat <<EOF
Usage: bench/userspace_locks.sh [OPTION]...

Configurations (2 host CPUs; QEMU pinned with taskset):
  1x   2 vCPUs on host CPUs 0-1
  2x   4 vCPUs on host CPUs 0-1
  4x   4 vCPUs on host CPU 0 (the main job's 4x)
  8v   8 vCPUs on host CPUs 0-1 (4x as well, with twice the threads)
Each runs every workload with every variant (glibc, adaptive, guest,
both), interleaved (in a new order each repetition, so that each runs
after every other one), REPS times, one thread per vCPU.  On 4x the guest
also runs glibc's mutex on one thread (variant "one", the same work),
interleaved with the rest: on one host CPU no lock does more, so that is
the ceiling the report holds the variants and the targets against.

Options:
  --configs LIST     [$configs]
  --workloads LIST   micro, micro-spin (a pthread spinlock; not for the
                     adaptive variant), sysbench-threads, sysbench-mutex
                     [$workloads]
  --reps N           repetitions [$reps]
  --duration-ms MS   length of each run (sysbench: whole seconds) [$dur]
  --out DIR          results directory [results/userspace-DATE]; the
                     results go to DIR/userspace.jsonl
  --no-setup         do not run configure and make first
  --no-report        do not print the report (the main job prints its own)
  --plan-ms          print how long the runs are planned to take (ms, with
                     the boots; the main job's clock) and exit
  --progress TOTAL:DONE:START
                     count the time left of a bigger sweep this bench is
                     a part of (the main job's): TOTAL ms planned, DONE
                     of them done, begun at START (date +%s)
  -h, --help         this help

Writes DIR/userspace.jsonl (one object per run: config, workload,
variant, rep, ops_per_s), the guests' output and consoles, and
DIR/userspace.md and userspace.txt (medians, ratios, targets).
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
number() { case "$2" in ''|*[!0-9]*) die "$1 wants a number, not '$2'" ;; esac; }

while [ $# -gt 0 ]; do
	case "$1" in
	--configs) configs=${2:?$1 needs a value}; shift ;;
	--workloads) workloads=${2:?$1 needs a value}; shift ;;
	--reps) number "$1" "${2:-}"; reps=$2; shift ;;
	--duration-ms) number "$1" "${2:-}"; dur=$2; shift ;;
	--out) out=${2:?--out needs a value}; shift ;;
	--no-setup) setup=no ;;
	--no-report) report=no ;;
	--plan-ms) plan_only=yes ;;
	--progress) progress=${2:?$1 needs a value}; shift
		[[ $progress =~ ^[0-9]+:[0-9]+:[0-9]+$ ]] || die "--progress wants TOTAL:DONE:START, not '$progress'" ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[ "$reps" -ge 1 ] && [ "$dur" -ge 100 ] || die "--reps must be >= 1 and --duration-ms >= 100"
for c in $(tr , ' ' <<<"$configs"); do
	case "$c" in 1x|2x|4x|8v) ;; *) die "unknown configuration '$c' (1x, 2x, 4x, 8v)" ;; esac
done

# config_layout CONFIG: the guest's vCPUs (smp), the host CPUs its QEMU is
# pinned to (cpus), the variants it runs and how many (nv).
config_layout() {
	variants=glibc,adaptive,guest,both
	case "$1" in
	1x) smp=2 cpus=0-1 ;;
	2x) smp=4 cpus=0-1 ;;
	4x) smp=4 cpus=0 variants=$variants,one ;;
	8v) smp=8 cpus=0-1 ;;
	esac
	nv=$(tr , ' ' <<<"$variants" | wc -w)
}
nwl=$(tr , ' ' <<<"$workloads" | wc -w)
secs=$((dur < 1000 ? 1 : dur / 1000))
# One run's plan: sysbench runs whole seconds, the microbenchmark $dur;
# with its start, about 0.2 s more (the main job's run K: 153 runs of 2 s
# in 6 min, boots included).
run_ms=$(((secs * 1000 > dur ? secs * 1000 : dur) + 200))
config_plan_ms() { echo $((nwl * nv * reps * run_ms + PROGRESS_BOOT_MS)); }
plan_ms=0
for c in $(tr , ' ' <<<"$configs"); do
	config_layout "$c"
	plan_ms=$((plan_ms + $(config_plan_ms)))
done
if [ $plan_only = yes ]; then
	echo "$plan_ms"
	exit 0
fi

cd "$src" || exit 1
: "${out:=results/userspace-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out" || exit 1

if [ $setup = yes ]; then
	./configure || exit 1
	make -j"$(nproc)" || exit 1
fi
[ -e build/vm.env ] || die "build/vm.env is missing: run make (or drop --no-setup)"

. host/vm-session.sh
vm_pid= cur_name=
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$vm_pid" ]; then
		kill -TERM "$vm_pid" 2>/dev/null
		wait "$vm_pid" 2>/dev/null
		qp=$(cat "/run/pvlockinfo/$cur_name/qemu.pid" 2>/dev/null) && kill -KILL "$qp" 2>/dev/null
	fi
	pvlockd_session_stop
}
trap cleanup EXIT
trap 'echo; echo "$prog: interrupted; results so far are in $out"; exit 130' INT
trap 'exit 143' TERM

pvlockd_session_start || exit 1

failed=0
if [ -n "$progress" ]; then
	IFS=: read -r p_total p_done p_start <<<"$progress"
	progress_start "$p_total" "$p_done" "$p_start"
else
	progress_start "$plan_ms"
fi
done_ms=0
for c in $(tr , ' ' <<<"$configs"); do
	config_layout "$c"
	cur_name=userspace-$$-$c
	# Generous: each run is the longer of --duration-ms and sysbench's whole
	# seconds, plus start-up, slow under TCG with oversubscription.
	budget=$((nwl * nv * reps * (secs + 3) * 3 + 180))
	echo "==> libpvlock bench, $c ($smp vCPUs on host CPUs $cpus): $nwl workload(s) x $nv variants x $reps reps"
	host/pvlock-qemu -q --name "$cur_name" --smp "$smp" --host-cpus "$cpus" --channel on \
		--timeout "$budget" --console-log "$out/userspace-$c.console" \
		--run "pvlock-usweep --workloads $workloads --variants $variants --reps $reps --duration-ms $dur --tag '\"config\":\"$c\",'" \
		>"$out/userspace-$c.out" 2>&1 &
	vm_pid=$!
	# run k begun: k-1 of this guest's runs are done
	progress_follow "$vm_pid" "$out/userspace-$c.out" "$c" $((done_ms + PROGRESS_BOOT_MS)) "$run_ms" 1
	wait "$vm_pid"
	rc=$?
	vm_pid=
	done_ms=$((done_ms + $(config_plan_ms)))
	grep '^{' "$out/userspace-$c.out" >>"$out/userspace.jsonl"
	if [ $rc -ne 0 ]; then
		echo "$prog: the $c guest failed (exit $rc): $(grep -v '^{' "$out/userspace-$c.out" | tail -n 3 | tr '\n' ' ')" >&2
		failed=$((failed + 1))
	fi
done

if [ $report = yes ]; then
	python3 bench/userspace_report.py "$out" || exit 1
fi
[ $failed -eq 0 ]
