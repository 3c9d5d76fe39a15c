#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/takeover.sh: an unmodified workload with the kernel-spinlock
# takeover off and on, same VM, same run.
#
# Debian's hackbench (rt-tests: groups of processes passing messages over
# sockets; the kernel's socket, wait-queue and runqueue spinlocks) runs
# in a guest at 1x (2 vCPUs on host CPUs 0-1), 2x (4 vCPUs on 0-1) and 4x
# (4 vCPUs on CPU 0).  pvlockinfo_takeover.ko is applied before the runs;
# its runtime switch alternates off/on between runs (off on on off ..
# order A B A B), so drift hits both alike.  Prints median hackbench time
# per mode, the throughput ratio on/off, and the targets (issue 5): >= 2x
# at 2x, no more than 3% loss at 1x.

set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
prog=takeover

configs="1x 2x 4x" reps=3 groups=4 loops=100

usage() {
	cat <<EOF
Usage: bench/takeover.sh [--configs LIST] [--reps N] [--groups N] [--loops N]

Needs root and a built tree (make).  Starts pvlockd if it is not running.
  --configs LIST   1x, 2x, 4x [${configs// /,}]
  --reps N         hackbench runs per mode [$reps]
  --groups N       hackbench -g [$groups]
  --loops N        hackbench -l [$loops]
  -h, --help       this help
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--configs) configs=$(tr , ' ' <<<"${2:?$1 needs a value}"); shift ;;
	--reps) reps=${2:?$1 needs a value}; shift ;;
	--groups) groups=${2:?$1 needs a value}; shift ;;
	--loops) loops=${2:?$1 needs a value}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
case "$reps$groups$loops" in *[!0-9]*|'') die "--reps, --groups and --loops want numbers" ;; esac
for c in $configs; do case "$c" in 1x|2x|4x) ;; *) die "unknown config '$c' (1x, 2x, 4x)" ;; esac; done
[ "$(id -u)" = 0 ] || die "needs root"

cd "$src" || exit 1
[ -e build/vm.env ] || die "build/vm.env is missing: run make"
. bench/pvlockd_session.sh
tmp=$(mktemp -d)
vm_pid=
cleanup() {
	[ -n "$vm_pid" ] && { kill -TERM "$vm_pid" 2>/dev/null; wait "$vm_pid" 2>/dev/null; }
	pvlockd_session_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pvlockd_session_start || exit 1

for c in $configs; do
	case $c in
	1x) smp=2 cpus=0-1 ;;
	2x) smp=4 cpus=0-1 ;;
	4x) smp=4 cpus=0 ;;
	esac
	echo "==> $c: $smp vCPUs on host CPUs $cpus, hackbench -g $groups -l $loops, $reps runs per mode"
	host/pvlock-qemu -q --name "takeover-$$-$c" --smp "$smp" --host-cpus "$cpus" --channel on \
		--timeout 1800 --run "
modprobe pvlockinfo || exit 10
for i in \$(seq 100); do grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
modprobe pvlockinfo_takeover active=0 || exit 11
for i in \$(seq 600); do [ \"\$(cat /sys/kernel/livepatch/pvlockinfo_takeover/transition)\" = 0 ] && break; sleep 0.1; done
p=/sys/module/pvlockinfo_takeover/parameters
for rep in \$(seq $reps); do
	for a in 0 1; do
		echo \$a >\$p/active
		h0=\$(cat \$p/halts)
		t=\$(hackbench -g $groups -l $loops | sed -n 's/^Time: //p')
		echo \"RESULT active=\$a rep=\$rep time=\$t halts=\$(( \$(cat \$p/halts) - h0 ))\"
		echo \"  \$rep/$reps takeover \$( [ \$a = 1 ] && echo on || echo off): \$t s\" >&2
	done
done" >"$tmp/$c.out" 2>&1 &
	vm_pid=$!
	shown=0
	while kill -0 "$vm_pid" 2>/dev/null; do
		sleep 1
		n=$(grep -c '^  [0-9]' "$tmp/$c.out")
		[ "$n" -gt "$shown" ] && grep '^  [0-9]' "$tmp/$c.out" | sed -n "$((shown + 1)),${n}p"
		shown=$n
	done
	wait "$vm_pid" || die "the $c guest failed: $(tail -n 5 "$tmp/$c.out")"
	vm_pid=
	grep '^  [0-9]' "$tmp/$c.out" | sed -n "$((shown + 1)),\$p"
	sed -n "s/^RESULT /$c /p" "$tmp/$c.out" >>"$tmp/all.txt"
done

python3 - "$tmp/all.txt" <<'EOF'
import statistics, sys
from collections import defaultdict

t = defaultdict(list)
halts = defaultdict(int)
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=") for x in f[1:])
    t[(f[0], kv["active"])].append(float(kv["time"]))
    halts[(f[0], kv["active"])] += int(kv["halts"])
print()
print("hackbench time in s (median, min-max); throughput on/off = time off / time on")
print(f"{'config':6} {'takeover off':>20} {'takeover on':>20} {'on/off':>8} {'halts (on)':>11}")
ratio = {}
for c in ("1x", "2x", "4x"):
    if (c, "0") not in t:
        continue
    off, on = t[(c, "0")], t[(c, "1")]
    ratio[c] = statistics.median(off) / statistics.median(on)
    print(f"{c:6} {statistics.median(off):8.3f} ({min(off):.2f}-{max(off):.2f}) "
          f"{statistics.median(on):8.3f} ({min(on):.2f}-{max(on):.2f}) {ratio[c]:8.2f} "
          f"{halts[(c, '1')]:11d}")
print()
if "2x" in ratio:
    print(f"target: 2x throughput on/off >= 2: {ratio['2x']:.2f}: "
          + ("reached" if ratio["2x"] >= 2 else "NOT reached"))
if "1x" in ratio:
    print(f"target: 1x loss <= 3%: {100 * (1 - ratio['1x']):.1f}%: "
          + ("reached" if ratio["1x"] >= 0.97 else "NOT reached"))
EOF
