#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/takeover_bound.sh: how much the kernel-spinlock takeover could win
# at most, per workload: the host CPU time the guest kernel's own
# spinlocks waste in waiting, with the takeover not applied.
#
# The takeover can only turn waiting into work: a waiter that halts gives
# its host CPU to another vCPU.  So its gain on a workload that keeps the
# host CPUs busy is at most 1 / (1 - w), w the share of the vCPUs' host
# CPU time spent waiting in the kernel's spinlock slow path.  This bench
# measures w in the guest of bench/takeover.sh, native (the takeover
# removed), one workload run at a time (pvli-workload):
#   wait   the slow path's wall time, all waiters summed (pvlocktrace
#          --kernel-only: fentry/fexit on native_queued_spin_lock_slowpath,
#          whose virt_spin_lock() is the kernel's contended path in a
#          guest without pv spinlocks)
#   run    the vCPUs' time on a host CPU, summed (the page's run_ns, per
#          vCPU in /sys/kernel/debug/pvlockinfo/vcpus)
#   steal  their time runnable but not on a host CPU (steal_ns)
#   self   the waiters' own steal during their waits (pvlocktrace's
#          SELFPRE_ms: pvlockinfo.ko's kfunc reads the vCPU's steal clock
#          at the wait's start and end)
# and prints per config and workload the medians of wait / wall (waiters
# in the slow path at a time), of w = wait / run: the share of the
# vCPUs' host CPU time spent waiting if every waiting moment was on a
# host CPU, and of w_on = (wait - self) / run: the share spent waiting on
# a host CPU (or halted: the host counts steal only while a vCPU is
# runnable; the native slow path under TCG never halts).  Only that part
# is waste a halt could give back (a waiter the host has preempted wastes
# nothing), so 1 / (1 - w_on) bounds the gain; 1 / (1 - w), the looser bound of the first version of this bench,
# is printed beside it.  Both are held against the issue 17 target
# (>= 1.2x native at 2x and 4x).  Where waiters are mostly preempted (4x:
# three of four vCPUs wait for the one host CPU) wait exceeds run and w
# gives no bound: "none"; w_on still does.  The bound leaves out what
# halting cannot buy (idle time, the workload's own sleeps) and assumes
# the work per host CPU second stays as it is (fewer context switches
# or IPIs could add to a gain); tracing costs two BPF trampolines per
# contended acquisition.
#
# Then what the takeover leaves of it: in the same guest and repetition,
# after the native runs, the takeover is applied (policy shfl-pv, the
# default entry, settled down first as in bench/takeover.sh) and every
# workload runs again, untraced; its own counters (pvli-takeover
# counters: wait_ns, wait_steal_ns, wait_run_ns) split its waiting into
# preempted, on a host CPU (the run clock) and halted.  Printed per
# workload: the waiting it still does on a host CPU and the time its
# waiters spend halted, both as a share of the vCPUs' host CPU time,
# beside the native w_on (--native-only skips this part).

set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
prog=takeover_bound
. "$here/lib/takeover-guest.sh"

configs="2x 4x" reps=3 groups=4 loops=100 secs=3
workloads="hackbench msg futex"
takeover=1

usage() {
	cat <<EOF
Usage: bench/takeover_bound.sh [--configs LIST] [--reps N] [--workloads LIST]
                               [--groups N] [--loops N] [--seconds S]

The most the kernel-spinlock takeover could win per workload: the share of
the vCPUs' host CPU time the kernel's own spinlocks spend waiting, native.
Needs root and a built tree (make).  Starts pvlockd if it is not running.
  --configs LIST    1x, 2x, 4x [${configs// /,}]
  --reps N          runs of every workload [$reps]
  --workloads LIST  of: ${tk_all_workloads// /,} [${workloads// /,}]
  --groups N        hackbench and messaging -g [$groups]
  --loops N         hackbench and messaging -l [$loops]
  --seconds S       length of the fixed-time workloads [$secs]
  --native-only     measure the bound only, not what the takeover leaves
  -h, --help        this help
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--native-only) takeover=0 ;;
	*) tk_workload_opt "$@" && shift || die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
tk_check_workload_opts
tk_workload_session

for c in $configs; do
	tk_config $c
	echo "==> $c: $smp vCPUs on host CPUs $cpus, ${workloads// /, }, native$([ $takeover = 1 ] && echo ', then with the takeover'); $reps runs each"
	tk_run_guest "tk-bound-$$-$c" "$smp" "$cpus" "$tk_tmp/$c.out" "
for rep in \$(seq $reps); do
	for w in $workloads; do
		pvlocktrace --kernel-only >/tmp/pt 2>&1 & tp=\$!
		for i in \$(seq 100); do grep -q 'Ctrl-C' /tmp/pt && break; sleep 0.1; done
		grep -q 'Ctrl-C' /tmp/pt || { echo \"pvlocktrace did not start: \$(cat /tmp/pt)\"; exit 12; }
		v=\$(tk_vcpus) || exit 14
		set -- \$v; r0=\$1 s0=\$2 t0=\$(tk_now_ms)
		o=\$(pvli-workload run \$w -g $groups -l $loops -s $secs) || exit 13
		v=\$(tk_vcpus) || exit 14
		set -- \$v; r1=\$1 s1=\$2 t1=\$(tk_now_ms)
		kill -INT \$tp; wait \$tp || { echo \"pvlocktrace failed: \$(tail -n 3 /tmp/pt)\"; exit 15; }
		k=\$(awk '\$1 == \"kernel\" { print \$3, \$4, \$9 }' /tmp/pt)
		set -- \${k:-0 0 0}
		[ \"\$3\" = - ] && { echo \"pvlocktrace could not read the waiters own steal (is the page live?): \$(cat /tmp/pt)\"; exit 16; }
		echo \"BOUND rep=\$rep \$o waits=\$1 wait_ms=\$2 self_ms=\$3 run_ms=\$((r1 - r0)) steal_ms=\$((s1 - s0)) wall_ms=\$((t1 - t0)) host_cpus=$ncpus\"
		echo \"  \$rep \$w: \$1 waits, \$2 ms waiting, \$3 ms of it preempted; vCPUs \$((r1 - r0)) ms on a host CPU, \$((s1 - s0)) ms stolen, in \$((t1 - t0)) ms\"
	done
	[ $takeover = 1 ] || continue
	# The takeover, untraced: its own counters split its waiting.
	pvli-takeover apply && pvli-takeover policy shfl-pv && pvli-takeover on || exit 17
	pvli-takeover settle --timeout 10 >/dev/null || [ \$? = 3 ] || exit 17
	for w in $workloads; do
		v=\$(tk_vcpus) || exit 14
		set -- \$v; r0=\$1
		tk_counters b
		o=\$(pvli-workload run \$w -g $groups -l $loops -s $secs) || exit 13
		v=\$(tk_vcpus) || exit 14
		set -- \$v; r1=\$1
		tk_counters a
		a=\$(( (a_wait_ns - b_wait_ns) / 1000000 )) b=\$(( (a_wait_steal_ns - b_wait_steal_ns) / 1000000 ))
		c=\$(( (a_wait_run_ns - b_wait_run_ns) / 1000000 )) n=\$(( a_wait_no_steal - b_wait_no_steal )) q=\$(( a_waits - b_waits ))
		echo \"TAKEOVER rep=\$rep \$o waits=\$q wait_ms=\$a steal_ms=\$b oncpu_ms=\$c no_clock=\$n run_ms=\$((r1 - r0))\"
		echo \"  \$rep \$w with the takeover: \$q waits, \$a ms waiting: \$b ms preempted, \$c ms on a host CPU, \$n without clocks; vCPUs \$((r1 - r0)) ms on a host CPU\"
	done
	pvli-takeover remove || exit 17
done" || exit 1
	grep -E '^(BOUND|TAKEOVER) ' "$tk_tmp/$c.out" | sed -E "s/^(BOUND|TAKEOVER) /\1 config=$c /" >>"$tk_tmp/all"
done

echo
python3 - "$tk_tmp/all" <<'EOF'
import statistics, sys

runs, tk = {}, {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    name = line.split()[3]
    if line.startswith("TAKEOVER "):
        run, wait = float(f["run_ms"]), float(f["wait_ms"])
        if run > 0:
            halted = max(wait - float(f["steal_ms"]) - float(f["oncpu_ms"]), 0.0)
            tk.setdefault((f["config"], name), []).append(
                (float(f["oncpu_ms"]) / run, halted / run, float(f["no_clock"]) / max(float(f["waits"]), 1)))
        continue
    run, wait, wall = float(f["run_ms"]), float(f["wait_ms"]), float(f["wall_ms"])
    on = max(wait - float(f["self_ms"]), 0.0)
    if run <= 0 or wall <= 0:
        continue
    busy = run / (wall * float(f["host_cpus"]))
    runs.setdefault((f["config"], name), []).append(
        (wait / wall, wait / run, float(f["waits"]), busy, on / wait if wait else 0.0, on / run))

def gain(w):
    return "none" if w >= 1 else "%.2fx" % (1 / (1 - w))

print("%-6s %-10s %4s %8s %10s %6s %8s %8s %6s %8s %8s" %
      ("config", "workload", "runs", "waits", "wait/wall", "busy", "w", "gain<=",
       "on%", "w_on", "gain<="))
for (config, name), rs in runs.items():
    per_wall, w, waits, busy, on_share, w_on = (statistics.median(r[i] for r in rs)
                                                for i in range(6))
    print("%-6s %-10s %4d %8d %10.2f %5.0f%% %7.1f%% %8s %5.0f%% %7.1f%% %8s" %
          (config, name, len(rs), waits, per_wall, 100 * busy, 100 * w, gain(w),
           100 * on_share, 100 * w_on, gain(w_on)))
if tk:
    print()
    print("with the takeover (shfl-pv):")
    print("%-6s %-10s %4s %10s %8s %8s %8s" %
          ("config", "workload", "runs", "native w_on", "w_on", "halted", "unclocked"))
    for (config, name), rs in tk.items():
        on, halted, unclocked = (statistics.median(r[i] for r in rs) for i in range(3))
        nat = runs.get((config, name))
        nat_on = "%9.1f%%" % (100 * statistics.median(r[5] for r in nat)) if nat else "%10s" % "-"
        print("%-6s %-10s %4d %s %7.1f%% %7.1f%% %7.1f%%" %
              (config, name, len(rs), nat_on, 100 * on, 100 * halted, 100 * unclocked))
print()
print("wait/wall: waiters in the kernel's spinlock slow path at a time, on")
print("average; busy: the vCPUs' time on a host CPU over the host CPUs' time")
print("(the bound is for a workload that keeps them busy, near 100%; below it")
print("the takeover could also win idle time back); w: the waiting as a share")
print("of the vCPUs' host CPU time, as if every waiting moment was on a host")
print("CPU, and the most the takeover could win by removing all of it (none:")
print("waiters are mostly preempted, no bound); on%: the part of the waiting")
print("the waiter's own vCPU was not preempted (on a host CPU, or halted);")
print("w_on: that part as a share of the vCPUs' host CPU time, and the most")
print("removing it could win, the tighter bound.  Issue 17 asks >= 1.2x native at 2x and 4x.  With the")
print("takeover: w_on, the waiting its waiters still do on a host CPU, and")
print("halted, the time they spend halted, as shares of the vCPUs' host CPU")
print("time (untraced runs, so not comparable in throughput); unclocked: waits")
print("whose clocks were unknown (no live page), in neither part.")
EOF
