#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/trace_overhead.sh: what the two eBPF tools cost the lock harness.
#
# Harness throughput with neither tool, with guest pvlocktrace attached,
# with host pvlockstat attached, and with both, side by side.  pvlockstat
# runs for a whole guest boot (its cost is on the host's scheduler
# events), so there are two boots: one without it, one with it.  In each,
# the guest alternates runs without and with pvlocktrace (A B A B ..), so
# drift hits both alike.  Target (issue 6): <= 3% loss with both tools.

set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
prog=trace_overhead

reps=3 dur=2000 configs="1x 2x" policies="shfl-pv native" workloads="contended light"

usage() {
	cat <<EOF
Usage: bench/trace_overhead.sh [OPTION]...

Needs root and a built tree (make).  Starts pvlockd if it is not running
(and stops it afterwards).  For every config, boots the guest twice (host
pvlockstat detached, then attached) and in each runs every workload and
policy REPS times without and with guest pvlocktrace, interleaved.
Prints median ops/s per combination and the loss against no tool.

  --configs LIST     1x (2 vCPUs on host CPUs 0-1), 2x (4 vCPUs on 0-1) [${configs// /,}]
  --policies LIST    harness policies [${policies// /,}]
  --workloads LIST   contended: 1 lock, 1 us in and 1 us between (about
                     every other acquisition waits); light: 8 locks, 1 us
                     in, 20 us between (waits are rare) [${workloads// /,}]
  --reps N           runs per combination [$reps]
  --duration-ms MS   each run [$dur]
  -h, --help         this help

Takes about 2 x configs x (boot + workloads x policies x reps x 2 x MS)
(about 3 minutes with the defaults).
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--configs) configs=$(tr , ' ' <<<"${2:?$1 needs a value}"); shift ;;
	--policies) policies=$(tr , ' ' <<<"${2:?$1 needs a value}"); shift ;;
	--workloads) workloads=$(tr , ' ' <<<"${2:?$1 needs a value}"); shift ;;
	--reps) reps=${2:?$1 needs a value}; shift ;;
	--duration-ms) dur=${2:?$1 needs a value}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
case "$reps$dur" in *[!0-9]*|'') die "--reps and --duration-ms want numbers" ;; esac
for c in $configs; do case "$c" in 1x|2x) ;; *) die "unknown config '$c' (1x, 2x)" ;; esac; done
for w in $workloads; do case "$w" in contended|light) ;; *) die "unknown workload '$w'" ;; esac; done
[ "$(id -u)" = 0 ] || die "needs root (BPF, pinned maps)"

cd "$src" || exit 1
for f in build/host/pvlockstat build/host/pvlockctl build/vm.env; do
	[ -e "$f" ] || die "$f is missing: run make"
done
. host/vm-session.sh
out=$(mktemp -d)
vm_pid= stat_pid=
cleanup() {
	[ -n "$stat_pid" ] && { kill -INT "$stat_pid" 2>/dev/null; wait "$stat_pid" 2>/dev/null; }
	[ -n "$vm_pid" ] && { kill -TERM "$vm_pid" 2>/dev/null; wait "$vm_pid" 2>/dev/null; }
	pvlockd_session_stop
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pvlockd_session_start || exit 1

# The guest: per workload, policy and rep, a run without pvlocktrace and
# one with it; each result line tagged with what ran.
guest_cmd() { # host-tool
	cat <<EOF
modprobe pvlockinfo_test || exit 10
for i in \$(seq 100); do grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status || { echo 'no channel after 10 s'; exit 11; }
for w in $workloads; do
	case \$w in contended) args="-l 1 -c 1000 -n 1000" ;; light) args="-l 8 -c 1000 -n 20000" ;; esac
	for rep in \$(seq $reps); do
		for p in $policies; do
			echo "  \$w \$p rep \$rep" >&2
			pvlock-bench -p \$p -d $dur \$args | sed "s/^{/{\"workload\":\"\$w\",\"host_tool\":$1,\"guest_tool\":false,/"
			pvlocktrace >/dev/null 2>/tmp/trace.err &
			tp=\$!
			for i in \$(seq 100); do grep -q tracing /tmp/trace.err && break; sleep 0.05; done
			grep -q tracing /tmp/trace.err || { cat /tmp/trace.err >&2; exit 11; }
			pvlock-bench -p \$p -d $dur \$args | sed "s/^{/{\"workload\":\"\$w\",\"host_tool\":$1,\"guest_tool\":true,/"
			kill -TERM \$tp; wait \$tp
		done
	done
done
EOF
}

for c in $configs; do
	case $c in 1x) smp=2 ;; 2x) smp=4 ;; esac
	for host_tool in false true; do
		name=trace-ovh-$$-$c-$host_tool
		echo "==> $c ($smp vCPUs on host CPUs 0-1), host pvlockstat $([ $host_tool = true ] && echo attached || echo detached)"
		host/pvlock-qemu -q --name "$name" --smp "$smp" --host-cpus 0-1 --channel on \
			--timeout 1200 --run "$(guest_cmd $host_tool)" >"$out/$c-$host_tool.out" 2>&1 &
		vm_pid=$!
		if [ $host_tool = true ]; then
			pvlockd_wait_vm "$name" "$vm_pid" ||
				die "the $c guest: $(tail -n 3 "$out/$c-$host_tool.out" | tr '\n' ' ')"
			build/host/pvlockstat --vm "$name" >/dev/null 2>"$out/pvlockstat.err" &
			stat_pid=$!
		fi
		wait "$vm_pid" || die "the $c guest failed: $(grep -v '^{' "$out/$c-$host_tool.out" | tail -n 3)"
		vm_pid=
		if [ -n "$stat_pid" ]; then
			kill -INT "$stat_pid" 2>/dev/null; wait "$stat_pid" 2>/dev/null; stat_pid=
			grep -q counting "$out/pvlockstat.err" ||
				die "pvlockstat never attached: $(cat "$out/pvlockstat.err")"
		fi
		sed -n "s/^{/{\"config\":\"$c\",/p" "$out/$c-$host_tool.out" >>"$out/all.jsonl"
	done
done

python3 - "$out/all.jsonl" <<'EOF'
import json, statistics, sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    d = json.loads(line)
    runs[(d["config"], d["workload"], d["policy"], d["host_tool"], d["guest_tool"])].append(d["ops_per_s"])
keys = sorted({k[:3] for k in runs})
combos = [(False, False, "none"), (False, True, "guest"), (True, False, "host"), (True, True, "both")]
print()
print("median ops/s of the harness with no tool, guest pvlocktrace, host pvlockstat, both;")
print("and the loss against no tool")
print(f"{'config':6} {'workload':9} {'policy':8} " +
      " ".join(f"{n:>10}" for *_, n in combos) + "  loss: guest   host   both")
worst = 0.0
for k in keys:
    med = {}
    cells = []
    for h, g, n in combos:
        xs = runs.get(k + (h, g), [])
        med[n] = statistics.median(xs) if xs else float("nan")
        cells.append(f"{med[n]:>10.0f}")
    loss = {n: 100.0 * (1 - med[n] / med["none"]) for n in ("guest", "host", "both")}
    worst = max(worst, loss["both"])
    print(f"{k[0]:6} {k[1]:9} {k[2]:8} " + " ".join(cells) +
          f"  {loss['guest']:11.1f}% {loss['host']:5.1f}% {loss['both']:5.1f}%")
print()
print(f"target: <= 3% loss with both tools attached; worst measured: {worst:.1f}%: "
      + ("reached" if worst <= 3.0 else "NOT reached"))
EOF
