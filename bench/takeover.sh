#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/takeover.sh: unmodified workloads with the kernel-spinlock
# takeover off and on, same VM, same run.
#
# Debian's workloads that stress kernel spinlocks (the guest tool
# pvli-workload: rt-tests' hackbench, perf bench sched messaging and
# futex hash, stress-ng's msg, flock and fork stressors) run in a guest
# at 1x (2 vCPUs on host CPUs 0-1), 2x (4 vCPUs on 0-1) and 4x (4 vCPUs
# on CPU 0); cyclictest measures wakeup latency on every vCPU during
# hackbench.  The modes run interleaved per rep, in a new order each rep
# (a Williams design, guest/tools/sweep-order.sh: drift hits all alike,
# and over N reps of N modes, 2N if N is odd, each mode runs in every
# place and right after every other one equally often), every workload
# in every mode:
# native (the kernel's own spinlock functions, takeover removed), shfl-pv
# (pvli-takeover apply, policy shfl-pv, on: waiters queue in the lock
# word and are shuffled around preempted vCPUs, halt behind preempted
# holders; the default entry, adaptive: the direct entry's paths while
# the host overcommits the guest, the slowpath entry's otherwise),
# tas-pv (the same switch with test-and-set waiting) and off (applied,
# switch off); on request also direct and slowpath (policy shfl-pv with
# the direct entry throughout, or the slowpath entry: only the contended
# path is ours, holders are not named; going to and from either removes
# and re-applies the takeover), shfl-pv-spin and
# tas-pv-spin (shfl-pv, tas-pv without irqs-off halts: waiters whose
# interrupts are off spin instead of halting until an NMI kick, as before
# irqs-off halts were the default) and native-again
# (native once more, in its own place in the order: native against
# itself, the run's noise floor, printed beside the targets).  At 1x
# each mode also times one uncontended spin_lock + spin_unlock pair (the
# test module's lockcost, as bench/takeover_entry.sh does per entry).
# Prints per config and workload the median per mode, throughput
# relative to native, the takeover's waits (and how many of
# them had interrupts off throughout: those spin in the -spin modes),
# halts (of them with interrupts off, and halts a watchdog had to end:
# lost kicks, never expected), the takeover's waiting and the part of
# it its waiters spent on a host CPU (its wait_ns and wait_run_ns
# counters; bench/takeover_bound.sh holds that against the native
# bound), and the
# targets (issue 17): at 1x no more than 3% loss on any workload; at 2x
# and 4x >= 1.2x native on hackbench and on one other, none below 1.0x.

set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
prog=takeover
. "$here/lib/takeover-guest.sh"

configs="1x 2x 4x" reps=3 groups=4 loops=100 secs=3
modes="native shfl-pv tas-pv off"
workloads=$tk_all_workloads

usage() {
	cat <<EOF
Usage: bench/takeover.sh [--configs LIST] [--reps N] [--workloads LIST] [--modes LIST]
                         [--groups N] [--loops N] [--seconds S]

Needs root and a built tree (make).  Starts pvlockd if it is not running.
  --configs LIST    1x, 2x, 4x [${configs// /,}]
  --reps N          runs of every workload per mode [$reps]
  --workloads LIST  of: ${tk_all_workloads// /,} [all]
  --modes LIST      native, then any of shfl-pv, tas-pv, off, slowpath
                    (shfl-pv with the slowpath entry), direct (shfl-pv
                    with the direct entry throughout), shfl-pv-spin,
                    tas-pv-spin (without irqs-off halts), native-again
                    (native against itself: the noise floor) [${modes// /,}]
  --groups N        hackbench and messaging -g [$groups]
  --loops N         hackbench and messaging -l [$loops]
  --seconds S       length of the fixed-time workloads (msg, flock,
                    futex, fork) [$secs]
  -h, --help        this help
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--modes) [ -n "${2:-}" ] || die "--modes needs a value"; modes=$(tr , ' ' <<<"$2"); shift ;;
	-h|--help) usage; exit 0 ;;
	*) tk_workload_opt "$@" && shift || die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
tk_check_workload_opts
for m in $modes; do case "$m" in native|shfl-pv|tas-pv|off|slowpath|direct|shfl-pv-spin|tas-pv-spin|native-again) ;; *) die "unknown mode '$m'" ;; esac; done
[ "${modes%% *}" = native ] || die "--modes must start with native (the ratios' base)"
tk_workload_session

for c in $configs; do
	tk_config $c
	echo "==> $c: $smp vCPUs on host CPUs $cpus, ${workloads// /, }; $reps runs per mode"
	# At 1x (no contention) also the entry's cost: one lockcost reading
	# per mode and rep, on vCPU 1.
	lc=0
	[ $c = 1x ] && lc=1
	tk_run_guest "takeover-$$-$c" "$smp" "$cpus" "$tk_tmp/$c.out" "
[ $lc = 0 ] || modprobe pvlockinfo_test || exit 10
. /usr/share/pvlockinfo/sweep-order.sh
# adapt_ud: the adaptive entry's switches so far, \"UPS DOWNS\" (0 0 without it)
adapt_ud() { cut -d' ' -f5,7 /sys/module/pvlockinfo_takeover/parameters/adaptive 2>/dev/null | grep '^[0-9]* [0-9]*\$' || echo 0 0; }
for rep in \$(seq $reps); do
	for m in \$(rep_order \$rep $modes); do
		# The slowpath and direct modes' entries differ from the
		# others' (auto): switching between them is a remove and an apply.
		e=\$(pvli-takeover status | sed -n 's/^entry: \\([a-z]*\\).*/\\1/p')
		case \$m in slowpath|direct) want=\$m ;; *) want=auto ;; esac
		case \$want/\$e in
		*/none|auto/adaptive|auto/livepatch|slowpath/slowpath|direct/direct) ;;
		*) pvli-takeover remove || exit 11 ;;
		esac
		case \$m in
		native|native-again) pvli-takeover remove || exit 11 ;;
		off) pvli-takeover apply && pvli-takeover off || exit 11 ;;
		slowpath|direct) pvli-takeover apply --entry \$m && pvli-takeover policy shfl-pv &&
			pvli-takeover on || exit 11 ;;
		*) pvli-takeover apply && pvli-takeover policy \${m%-spin} && pvli-takeover on || exit 11 ;;
		esac
		# Every mode starts alike: the adaptive entry (the default) down,
		# as after 2 s of idle, whatever the mode before it left.  Within
		# a mode the workloads run back to back, as a busy guest's would:
		# the first pays the way up, the others find it where the one
		# before left it (adapt_ups, adapt_downs and adapt_end say).
		# (settle exits 3 when the host keeps the entry up: measured as it is)
		case \$m in native|native-again) ;; *) pvli-takeover settle --timeout 10 >/dev/null || [ \$? = 3 ] || exit 11 ;; esac
		# Irqs-off halts: off in the -spin modes only (pvlockinfo.ko is loaded by now, but for native).
		if [ -e /sys/module/pvlockinfo ]; then
			case \$m in
			*-spin) pvli-takeover irqsoff-halt off || exit 11 ;;
			*) pvli-takeover irqsoff-halt on || exit 11 ;;
			esac
		fi
		for w in $workloads; do
			tk_counters b
			# Wakeup latency under hackbench: cyclictest on every vCPU.
			if [ \$w = hackbench ]; then
				cyclictest -q -m -t -p 80 -i 1000 -l 1000000 >/tmp/ct.txt 2>&1 &
				ct=\$!
			fi
			ud0=\$(adapt_ud)
			v=\$(tk_vcpus) || exit 14
			r0=\${v% *} t0=\$(tk_now_ms)
			r=\$(pvli-workload run \$w -g $groups -l $loops -s $secs)
			v=\$(tk_vcpus) || exit 14
			r1=\${v% *} t1=\$(tk_now_ms)
			lat='null null'
			if [ \$w = hackbench ]; then
				kill -INT \$ct; wait \$ct
				lat=\$(awk '/Avg:/ { for (i = 1; i < NF; i++) { if (\$i == \"Avg:\") a += \$(i + 1); if (\$i == \"Max:\" && \$(i + 1) > m) m = \$(i + 1) } n++ } END { if (n) printf \"%d %d\", a / n, m; else print \"null null\" }' /tmp/ct.txt)
			fi
			tk_counters a
			ud1=\$(adapt_ud)
			# The adaptive entry: which paths ran at the end (- without it).
			ad=\$(cut -d' ' -f1 /sys/module/pvlockinfo_takeover/parameters/adaptive 2>/dev/null)
			ad=\${ad:--}
			aup=\$(( \${ud1% *} - \${ud0% *} )) adown=\$(( \${ud1#* } - \${ud0#* } ))
			echo \"RESULT mode=\$m rep=\$rep workload=\$r lat_avg_us=\${lat% *} lat_max_us=\${lat#* } halts=\$(( a_halts - b_halts )) shuffles=\$(( a_shuffles - b_shuffles )) waits=\$(( a_waits - b_waits )) irqsoff_waits=\$(( a_irqsoff_waits - b_irqsoff_waits )) irqsoff_halts=\$(( a_irqsoff_halts - b_irqsoff_halts )) nmi_rescues=\$(( a_nmi_rescues - b_nmi_rescues )) wait_ms=\$(( (a_wait_ns - b_wait_ns) / 1000000 )) oncpu_ms=\$(( (a_wait_run_ns - b_wait_run_ns) / 1000000 )) adapt_ups=\$aup adapt_downs=\$adown adapt_end=\$ad run_ms=\$((r1 - r0)) wall_ms=\$((t1 - t0)) host_cpus=$ncpus\"
			echo \"  \$rep/$reps \$m \$r, waits \$(( a_waits - b_waits )), halts \$(( a_halts - b_halts )), adaptive \$ad (up \$aup, down \$adown)\" >&2
		done
		if [ $lc = 1 ]; then
			# The uncontended cost at 1x: with the adaptive entry settled (down).
			case \$m in native|native-again) ;; *) pvli-takeover settle --timeout 10 >/dev/null || [ \$? = 3 ] || exit 11 ;; esac
			echo 'pairs=20000 batches=51 cpu=1' >/sys/kernel/debug/pvlockinfo/lockcost || exit 12
			echo \"ENTRY mode=\$m rep=\$rep \$(cat /sys/kernel/debug/pvlockinfo/lockcost)\"
		fi
	done
done
pvli-takeover remove" || exit 2
	sed -n "s/^RESULT /$c /p" "$tk_tmp/$c.out" >>"$tk_tmp/all.txt"
	sed -n "s/^ENTRY /$c /p" "$tk_tmp/$c.out" >>"$tk_tmp/entry.txt"
done
touch "$tk_tmp/all.txt" "$tk_tmp/entry.txt"

python3 - "$tk_tmp/all.txt" "$tk_tmp/entry.txt" "$modes" "$workloads" <<'PY'
import math, statistics, sys
from collections import defaultdict

modes, workloads = sys.argv[3].split(), sys.argv[4].split()
NAN = float("nan")
runs = defaultdict(list)
unit = {}
for line in open(sys.argv[1]):
    # "CONFIG mode=M rep=R workload=NAME value=V unit=U lat_avg_us=..":
    # the workload's part is pvli-workload's own line.
    f = line.split()
    kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
    runs[(f[0], kv["workload"], kv["mode"])].append(kv)
    unit[kv["workload"]] = kv.get("unit", "s")


def vals(c, w, m, key="value"):
    return [float(r[key]) for r in runs[(c, w, m)] if r.get(key, "nan") not in ("null", "nan")]


def busy(c, w, m):
    """Per run: the vCPUs' time on a host CPU over the host CPUs' time."""
    return [float(r["run_ms"]) / (float(r["wall_ms"]) * float(r["host_cpus"]))
            for r in runs[(c, w, m)] if float(r.get("wall_ms", 0)) > 0 and "run_ms" in r]


def med(v):
    return statistics.median(v) if v else NAN


def tput(w, base, x):
    """x's throughput relative to base's: times (s) invert, ops/s do not."""
    if not (base > 0 and x > 0):
        return NAN
    return base / x if unit[w] == "s" else x / base


configs = [c for c in ("1x", "2x", "4x") if any(k[0] == c for k in runs)]
ratio, eff, won = {}, {}, {}
print()
print("median (min-max) over reps; unit s: time for a fixed amount of work (lower is better),")
print("ops/s: throughput (higher is better); tput/native: throughput relative to native;")
print("takeover waits, of them with interrupts off throughout (irqoff: they spin in the")
print("-spin modes), halts, of them with interrupts off (offhlt), and halts no kick ended within")
print("a second (rescue: lost kicks), summed over the reps; wait ms: the takeover's waiting, of it")
print("on-cpu: the part its waiters were on a host CPU (the rest preempted or halted; the")
print("waiter's run clock), medians; w_on: that on-cpu waiting as a share of the vCPUs' time on a")
print("host CPU (off: the takeover's own test-and-set, never halting, what halting could give")
print("back); busy: the vCPUs' time on a host CPU over the host CPUs'")
print("time during the run (below 100%: host CPU time nobody used, as when every vCPU halts);")
print("per cpu-s: the work done per second of vCPU time on a host CPU, relative to native")
print("(tput/native = busy / native's busy * per cpu-s); hackbench: cyclictest latency in us")
for c in configs:
    print()
    print(f"{c}:")
    print(f"  {'workload':10} {'mode':12} {'value':>28} {'unit':5} {'tput/native':>11} "
          f"{'waits':>8} {'irqoff':>7} {'halts':>7} {'offhlt':>7} {'rescue':>6} "
          f"{'wait ms':>8} {'on-cpu':>6} {'w_on':>5} {'busy':>5} {'per cpu-s':>9} {'lat avg':>7} {'lat max':>7}")
    for w in workloads:
        if w not in unit:
            continue
        base = med(vals(c, w, "native"))
        base_busy = med(busy(c, w, "native"))
        prec = ".3f" if unit[w] == "s" else ".0f"
        for m in modes:
            v = vals(c, w, m)
            if not v:
                continue
            r = tput(w, base, med(v))
            ratio[(c, w, m)] = r
            waits = sum(int(x["waits"]) for x in runs[(c, w, m)])
            halts = sum(int(x["halts"]) for x in runs[(c, w, m)])
            irqoff = sum(int(x.get("irqsoff_waits", 0)) for x in runs[(c, w, m)])
            offhlt = sum(int(x.get("irqsoff_halts", 0)) for x in runs[(c, w, m)])
            rescue = sum(int(x.get("nmi_rescues", 0)) for x in runs[(c, w, m)])
            wms = med(vals(c, w, m, "wait_ms"))
            on = med([float(x["oncpu_ms"]) / float(x["wait_ms"]) for x in runs[(c, w, m)]
                      if float(x.get("wait_ms", 0)) > 0 and "oncpu_ms" in x])
            w_on = med([float(x["oncpu_ms"]) / float(x["run_ms"]) for x in runs[(c, w, m)]
                        if float(x.get("run_ms", 0)) > 0 and "oncpu_ms" in x])
            b = med(busy(c, w, m))
            per_cpu_s = r * base_busy / b if b > 0 else NAN
            eff[(c, w, m)], won[(c, w, m)] = per_cpu_s, w_on
            lat = ""
            if w == "hackbench":
                lmax = max((int(x["lat_max_us"]) for x in runs[(c, w, m)]
                            if x["lat_max_us"] != "null"), default=-1)
                lat = f" {med(vals(c, w, m, 'lat_avg_us')):7.0f} {lmax:7d}"
            cell = f"{med(v):{prec}} ({min(v):{prec}}-{max(v):{prec}})"
            print(f"  {w:10} {m:12} {cell:>28} {unit[w]:5} {r:11.2f} {waits:8d} {irqoff:7d} "
                  f"{halts:7d} {offhlt:7d} {rescue:6d} {wms:8.0f} "
                  + (f"{on:6.0%}" if not math.isnan(on) else f"{'-':>6}")
                  + (f" {w_on:5.1%}" if m not in ("native", "native-again") and not math.isnan(w_on)
                     else f" {'-':>5}")
                  + (f" {b:5.0%}" if not math.isnan(b) else f" {'-':>5}")
                  + f" {per_cpu_s:9.2f}" + lat)

on_modes = [m for m in modes if m in ("shfl-pv", "tas-pv", "slowpath", "direct", "shfl-pv-spin", "tas-pv-spin")]
if on_modes and configs:
    print()
    print("throughput, takeover on / native (medians over reps):")
    print(f"  {'workload':10}" + "".join(f" {c + ' ' + m:>11}" for c in configs for m in on_modes))
    for w in workloads:
        print(f"  {w:10}" + "".join(f" {ratio.get((c, w, m), NAN):11.2f}"
                                    for c in configs for m in on_modes))

if "off" in modes and on_modes and configs:
    # off is the takeover's own test-and-set, never halting: its on-cpu
    # waiting is what halting can give back.  If the rest of a host CPU
    # second did the same work, a mode's work per cpu-s over off's would
    # be (1 - its w_on) / (1 - off's w_on); what it measures beside that
    # says how much of the given-back time became work.
    print()
    print("halting's yield against off (untraced, same guest): work per cpu-s over off's,")
    print("expected from the on-cpu waiting removed (1 - w_on) / (1 - off's w_on), and measured:")
    for c in configs:
        for w in workloads:
            o_eff, o_won = eff.get((c, w, "off"), NAN), won.get((c, w, "off"), NAN)
            for m in on_modes:
                m_eff, m_won = eff.get((c, w, m), NAN), won.get((c, w, m), NAN)
                if any(math.isnan(x) for x in (o_eff, o_won, m_eff, m_won)) or o_eff <= 0:
                    continue
                exp, got = (1 - m_won) / (1 - o_won), m_eff / o_eff
                share = (got - 1) / (exp - 1) if exp > 1 else NAN
                print(f"  {c} {w:10} {m:12} w_on {o_won:5.1%} -> {m_won:5.1%}: expected "
                      f"{exp:5.2f}x, measured {got:5.2f}x"
                      + (f" ({share:4.0%} of the expected gain)" if not math.isnan(share) else ""))

entry = defaultdict(list)
for line in open(sys.argv[2]):
    kv = dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
    # The lock's cost: the batch median less the empty loop's.
    entry[kv["mode"]].append(float(kv["lock_ns"]) - float(kv["loop_ns"]))
if entry.get("native"):
    nat = med(entry["native"])
    print()
    print("1x uncontended spin_lock + spin_unlock, ns per pair (loop subtracted, median over reps):")
    for m in modes:
        if entry.get(m):
            print(f"  {m:12} {med(entry[m]):7.2f} ns  {med(entry[m]) / nat:5.2f}x native")

print()
# native-again is native run again: how far two identical modes land
# apart in this run, per config (the worst workload), is the resolution
# the targets are judged at.
for c in configs:
    r = {w: ratio.get((c, w, "native-again"), NAN) for w in workloads}
    r = {w: v for w, v in r.items() if not math.isnan(v)}
    if r:
        worst = max(r, key=lambda w: abs(1 - r[w]))
        print(f"noise floor, {c}: native-again / native from {min(r.values()):.2f} to "
              f"{max(r.values()):.2f} (worst: {worst} {100 * abs(1 - r[worst]):.1f}% off)")
for m in on_modes:
    if "1x" in configs:
        r = {w: ratio.get(("1x", w, m), NAN) for w in workloads}
        worst = min(workloads, key=lambda w: r[w] if not math.isnan(r[w]) else -1)
        ok = all(r[w] >= 0.97 for w in workloads)
        print(f"target: 1x, {m}: loss <= 3% on every workload (worst: {worst} "
              f"{100 * (1 - r[worst]):.1f}%): " + ("reached" if ok else "NOT reached"))
    for c in ("2x", "4x"):
        if c not in configs:
            continue
        r = {w: ratio.get((c, w, m), NAN) for w in workloads}
        others = [w for w in workloads if w != "hackbench" and r[w] >= 1.2]
        low = [w for w in workloads if not r[w] >= 1.0]
        ok = r.get("hackbench", 0) >= 1.2 and others and not low
        print(f"target: {c}, {m}: >= 1.2x native on hackbench ({r.get('hackbench', NAN):.2f}) "
              f"and one other ({', '.join(f'{w} {r[w]:.2f}' for w in others) or 'none'}), "
              f"none below 1.0x (below: {', '.join(f'{w} {r[w]:.2f}' for w in low) or 'none'}): "
              + ("reached" if ok else "NOT reached"))
PY
