#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/vcpu_oversub.sh: the main job of pvlockinfo.  How much does each
# lock policy lose to vCPU oversubscription, and how much does the channel
# win back?  Sets everything up, sweeps scenarios, writes raw results, a
# CSV, a markdown summary and gnuplot plots (bench/oversub_report.py).

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
prog=vcpu_oversub
. "$here/lib/progress.sh"

# The default run is the small one (issue 7: 15 minutes on a fresh 2-core
# machine, set-up included, which takes about 6 of them): the overcommit
# scenario with 2 reps (issue 16's fallback from 3) and 1 s traced runs,
# the takeover part at 2x and 4x (issue 17's gains) and the user-space
# part at 2x.  --full runs everything.
scenarios=overcommit
# Every policy of the harness, in report order: the one list.
all_policies=$(grep -v '^#' "$src/guest/tools/lock-policies" | paste -sd, -)
policies=$all_policies
ple=${PVLI_PAUSE_LOOP_EXIT:-0} ple_from='$PVLI_PAUSE_LOOP_EXIT (the environment)'
configs= reps=2 dur=2000 trace_ms=1000 out= resume=no setup=yes full=no smoke=no trace=1 takeover=1 userspace=1
# The takeover part's workloads (the guest's pvli-workload; bench/takeover.sh
# runs them all) and the length of the fixed-time ones: hackbench and two
# that gained most at 2x and 4x in bench/takeover.sh, short, so that the
# part adds about a minute a scenario.
takeover_workloads=hackbench,msg,futex takeover_secs=2
# The parts that also run the takeover's workloads (SCENARIO:LEVEL, or
# all) and the user-space part's configurations (bench/userspace_locks.sh).
takeover_parts=overcommit:2x,overcommit:4x takeover_parts_set=
us_configs=2x us_configs_set=

usage() {
	cat <<EOF
Usage: bench/vcpu_oversub.sh [OPTION]...

Sets pvlockinfo up on this machine if needed (./configure installs the
Debian packages; make builds the patched QEMU, cached, the module and the
guest image), starts pvlockd if it is not running, then for every scenario
boots a guest with the channel and runs the in-kernel lock harness for
every policy, interleaved (in a new order each repetition, so that each
runs after every other one) and repeated, while the host
tool pvlockstat counts lock-holder/waiter preemptions of the guest's vCPUs.
Ends with the summary table, each configuration's ceiling and the
policies against it, and the targets.

Scenarios (2 host CPUs; vCPU threads pinned with taskset):
  overcommit   one VM, more vCPUs than host CPUs: 1x (2 vCPUs on CPUs
               0-1), 2x (4 vCPUs on CPUs 0-1), 4x (4 vCPUs on CPU 0),
               8x2 (8 vCPUs on CPUs 0-1: queues long enough to shuffle)
  noisy        2 vCPUs on CPUs 0-1, sharing them with a second VM whose
               2 vCPUs run busy loops (the cloud neighbour)
  capped       2 vCPUs on CPUs 0-1 in a cgroup capped at one CPU's worth
               (CFS bandwidth 100 ms per 100 ms), where run quota matters;
               QEMU starts inside it (pvlock-qemu --cgroup)

Options:
  --scenario LIST    scenarios to run [$scenarios; --full:
                     overcommit,noisy,capped]
  --policies LIST    [$policies]
  --configs LIST     only these levels of the scenarios (1x,2x,4x,8x2,
                     1cpu) [all]; noisy and capped need 1x with native
                     for their ceiling
  --reps N           repetitions per policy [$reps; --full: 5]
  --duration-ms MS   length of each harness run [$dur; --full: 3000]
  --trace-ms MS      length of each traced run (the wait split needs
                     fewer acquisitions than a throughput figure)
                     [$trace_ms, at most --duration-ms; --full: the
                     --duration-ms]
  --full             the complete sweep: every scenario, 5 reps of 3 s,
                     besides the short critical section (1 us, 1 lock) a
                     long one (10 us) and four locks, the takeover part in
                     every part and the user-space part at every
                     configuration
  --takeover-parts LIST
                     the parts that run the takeover part, as
                     SCENARIO:LEVEL (overcommit:8x2, noisy:1x,
                     capped:1cpu, ...) or all [$takeover_parts;
                     --full: all]
  --userspace-configs LIST
                     the user-space part's configurations (1x, 2x, 4x,
                     8v) [$us_configs; --full: 1x,2x,4x,8v]
  --smoke            a seconds-long run for the tests: overcommit 1x only,
                     native and shfl-pv, 1 rep of 300 ms, traced runs of 200 ms
  --out DIR          results directory [results/oversub-DATE-SCENARIOS]
  --resume           continue the sweep in --out (default: the newest
                     results/oversub-*): finished parts are kept, the rest
                     is run
  --no-trace         skip the traced pass (see below)
  --no-takeover      skip the kernel-spinlock takeover runs (see below)
  --no-userspace     skip the user-space locks part (see below)
  --pause-loop-exit NS
                     run every guest with an emulated pause-loop exit
                     (pvlock-qemu --pause-loop-exit; TCG only): a vCPU
                     spinning in a PAUSE loop for NS ns yields its host
                     CPU, as under KVM, whose own starts at about 2000 ns.
                     The targets were set without one; the summary says
                     which way a run was made [$ple]
  --no-setup         do not run configure and make first
  -h, --help         this help

Ceilings, measured in the same run (on the same host CPUs, R-times
overcommit cannot beat 1x; on one host CPU, nothing beats one thread):
  - an overcommitted configuration measures its own, in the same guest,
    one run at the start of every rep, interleaved with the policies,
    and each rep is held against its own: native on as many threads as
    the guest has host CPUs, the other vCPUs idle (overcommit 2x and
    8x2: 2 threads, the 1x figure on CPUs 0-1 without the drift between
    two guests booted minutes apart; 4x: 1 thread on CPU 0); the
    median of those runs is the ceiling's figure, and the 1x guest's
    native median is printed beside it;
  - noisy and capped (2 vCPUs on CPUs 0-1): native's median at
    overcommit 1x with the same workload, an upper bound rather than a
    goal (they get less than two CPUs' worth);
    each policy's ratio to its own 1x figure is printed too.
Native is the lock users run.  A run without overcommit 1x and native
has no ceiling for noisy and capped and says so.  Beside each policy's ratios to native and to the ceiling,
the summary prints p99, p99.9 and max wait, Jain's index, the smallest
and largest per-thread share, the longest bypass (the most acquisitions
by others while one thread waited for the lock, its own preemptions
included) and the lock core's steals, queued acquisitions, halts, kicks
and shuffles per 1000 acquisitions: all medians over the reps.

After the measured reps, each part runs every policy once more with the
guest tool pvlocktrace attached, for the wait-time split (holder running,
holder preempted, hand-over); tracing costs throughput, so that pass is
kept apart from the throughput figures.  Then it runs Debian's
unmodified workloads that stress kernel spinlocks (hackbench, stress-ng's
msg stressor for 2 s and perf bench futex hash for 2 s: the guest tool
pvli-workload) REPS times each with the kernel's own spinlock functions
(native) and with the kernel-spinlock takeover applied and on
(pvli-takeover apply, its default entry, adaptive; pvlockinfo.ko takeover
mode), alternating: in the parts --takeover-parts names, with the short
critical section.

Last, its own part, the user-space locks (bench/userspace_locks.sh):
libpvlock side by side with glibc's default and adaptive mutexes in one
guest, at the --userspace-configs: 1x (2 vCPUs on CPUs 0-1), 2x (4 on
0-1), 4x (4 on CPU 0), 8v (8 vCPUs on CPUs 0-1); on a contended
microbenchmark and on Debian's sysbench (threads and mutex tests), REPS
times each.

Outputs in the results directory: results.jsonl (one harness object per
run), pvlockstat-SCENARIO_CONFIG.jsonl (host intervals), trace.jsonl and
traced_runs.jsonl (the traced pass: pvlocktrace totals and the harness's
own figures for the same runs), takeover.jsonl (per workload run: its
value and unit, takeover 0 = native, 1 = on, the takeover's halts and
its waiting in us: wait_us, steal_us, oncpu_us), ceiling.jsonl (the ceiling runs of the
overcommitted configurations), userspace.jsonl (the user-space locks
part), results.csv, summary.md, summary.txt,
throughput.png, latency_cdf.png, lhp_rate.png, and the guests' consoles
(*.console).

The default run is sized for issue 7's 15 minutes on a fresh 2-core TCG
host, set-up included (packages and the QEMU build: about 6 minutes,
once; the sweep itself about 7, its first line gives its plan, each
progress line the time left): overcommit's four parts, 2 reps of 2 s
with 1 s traced runs, the takeover part at 2x and 4x, the user-space
part at 2x.  Every part
at 3 reps (--reps 3 --scenario overcommit,noisy,capped --takeover-parts
all --userspace-configs 1x,2x,4x,8v) took 22 minutes after set-up;
--full, with its 5 reps of 3 s and two more workloads, is longer
still.  The summary's heading gives
the sweep's own time.  A VM that fails or hangs is
reported and skipped, keeping everything measured so far; Ctrl-C stops
the sweep and leaves no QEMU, hog, cgroup or pin behind.
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
number() { case "$2" in ''|*[!0-9]*) die "$1 wants a number, not '$2'" ;; esac; }

reps_set= dur_set= scenarios_set= trace_ms_set=
while [ $# -gt 0 ]; do
	case "$1" in
	--scenario|--scenarios) scenarios=${2:?$1 needs a value}; scenarios_set=1; shift ;;
	--policies) policies=${2:?--policies needs a value}; shift ;;
	--configs) configs=${2:?--configs needs a value}; shift ;;
	--reps) number "$1" "${2:-}"; reps=$2; reps_set=1; shift ;;
	--duration-ms) number "$1" "${2:-}"; dur=$2; dur_set=1; shift ;;
	--trace-ms) number "$1" "${2:-}"; trace_ms=$2; trace_ms_set=1; shift ;;
	--out) out=${2:?--out needs a value}; shift ;;
	--full) full=yes ;;
	--smoke) smoke=yes ;;
	--resume) resume=yes ;;
	--no-setup) setup=no ;;
	--pause-loop-exit) ple=${2:-}; ple_from=$1; shift ;;
	--no-trace) trace=0 ;;
	--no-takeover) takeover=0 ;;
	--no-userspace) userspace=0 ;;
	--takeover-parts) takeover_parts=${2:?$1 needs a value}; takeover_parts_set=1; shift ;;
	--userspace-configs) us_configs=${2:?$1 needs a value}; us_configs_set=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[ "$reps" -ge 1 ] && [ "$dur" -ge 100 ] || die "--reps must be >= 1 and --duration-ms >= 100"
. "$src/host/pause-loop-exit.sh"
ple_ns=$(ple_parse "$ple") || die "$ple_from '$ple': nanoseconds, 0 (none) to 4294967295"
ple=$ple_ns
workloads="short"
if [ $full = yes ]; then
	[ -n "$reps_set" ] || reps=5
	[ -n "$dur_set" ] || dur=3000
	workloads="short long locks4"
	[ -n "$scenarios_set" ] || scenarios=overcommit,noisy,capped
	[ -n "$takeover_parts_set" ] || takeover_parts=all
	[ -n "$us_configs_set" ] || us_configs=1x,2x,4x,8v
	[ -n "$trace_ms_set" ] || trace_ms=$dur
fi
# A traced run is never longer than a measured one.
[ -n "$trace_ms_set" ] || [ "$trace_ms" -le "$dur" ] || trace_ms=$dur
[ "$trace_ms" -ge 100 ] && [ "$trace_ms" -le "$dur" ] ||
	die "--trace-ms must be from 100 to the --duration-ms ($dur)"
cells=
if [ $smoke = yes ]; then
	scenarios=overcommit policies=native,shfl-pv reps=1 dur=300 trace_ms=200
	takeover_workloads=hackbench,msg takeover_secs=1 takeover_parts=overcommit:1x
	cells="overcommit:1x:short"
fi
for s in $(tr , ' ' <<<"$scenarios"); do
	case "$s" in
	overcommit) lv="1x 2x 4x 8x2" ;;
	noisy) lv="1x" ;;
	capped) lv="1cpu" ;;
	*) die "unknown scenario '$s' (overcommit, noisy, capped)" ;;
	esac
	[ $smoke = yes ] && continue
	for l in $lv; do
		[ -z "$configs" ] || case ",$configs," in *",$l,"*) ;; *) continue ;; esac
		for w in $workloads; do cells="$cells $s:$l:$w"; done
	done
done
for p in $(tr , ' ' <<<"$policies"); do
	case ",$all_policies," in *",$p,"*) ;;
	*) die "unknown policy '$p' ($all_policies)" ;; esac
done
for p in $(tr , ' ' <<<"$takeover_parts"); do
	case "$p" in
	all|overcommit:1x|overcommit:2x|overcommit:4x|overcommit:8x2|noisy:1x|capped:1cpu) ;;
	*) die "--takeover-parts: unknown part '$p' (all, or SCENARIO:LEVEL: overcommit:1x, overcommit:2x, overcommit:4x, overcommit:8x2, noisy:1x, capped:1cpu)" ;;
	esac
done
for c in $(tr , ' ' <<<"$us_configs"); do
	case "$c" in 1x|2x|4x|8v) ;; *) die "--userspace-configs: unknown configuration '$c' (1x, 2x, 4x, 8v)" ;; esac
done

cd "$src" || exit 1
if [ -z "$out" ] && [ $resume = yes ]; then
	out=$(ls -d results/oversub-* 2>/dev/null | tail -n1)
	[ -n "$out" ] || die "--resume: no results/oversub-* directory to continue"
fi
: "${out:=results/oversub-$(date +%Y%m%d-%H%M%S)-$(tr , + <<<"$scenarios")}"
if [ $resume = no ] && [ -e "$out/results.jsonl" ]; then
	die "$out already holds results: use --resume to continue it, or another --out"
fi
mkdir -p "$out/done" || exit 1
# A resumed run keeps the pause-loop exit it was measured with (a run
# from before the option had none).
if [ $resume = yes ] && [ -e "$out/results.jsonl" ]; then
	was=$(cat "$out/pause-loop-exit" 2>/dev/null || echo 0)
	[ "$was" = "$ple" ] ||
		die "$out was measured with a pause-loop exit of $was ns (0: none), this run would use $ple ($ple_from); resume it with --pause-loop-exit $was, or use another --out"
fi

step() { printf '\n==> %s\n' "$*"; }

if [ $setup = yes ]; then
	step "set-up: configure (installs missing packages) and make (the QEMU build is cached)"
	./configure || exit 1
	make -j"$(nproc)" || exit 1
fi
# The takeover part's workloads (stress-ng, perf) are in the benches' image.
initrd=()
[ $takeover = 1 ] && initrd=(--initrd build/guest/initramfs-workloads.cpio.gz)
for f in build/host/pvlockstat build/host/pvlockctl build/tests/cpuhog build/vm.env "${initrd[@]:1}"; do
	[ -e "$f" ] || die "$f is missing: run make (or drop --no-setup)"
done
if [ "$ple" -ne 0 ] && [ "$(sed -n 's/^PVLI_ACCEL_DEFAULT=//p' build/vm.env)" != tcg ]; then
	die "$ple_from: a pause-loop exit is for TCG, and guests here run under KVM (./configure's choice), whose processor has its own"
fi
# Every guest of the run, nested benches' included, gets the same
# pause-loop exit (pvlock-qemu reads it), and the report says which.
echo "$ple" >"$out/pause-loop-exit" || exit 1
export PVLI_PAUSE_LOOP_EXIT=$ple

# ---- cleanup: whatever is running when we stop, we stop ----------------------
. host/vm-session.sh
. host/cgroup-cap.sh
vm_pid= stat_pid= noise_pid= cgroup= cur_name=
stop_vm() { # pid name
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	# pvlock-qemu stops its QEMU on TERM; make sure of it.
	local qp
	qp=$(cat "/run/pvlockinfo/qemu/$2/qemu.pid" 2>/dev/null) && kill -KILL "$qp" 2>/dev/null
	return 0
}
cleanup_cell() {
	[ -n "$stat_pid" ] && { kill -INT "$stat_pid" 2>/dev/null; wait "$stat_pid" 2>/dev/null; }
	stop_vm "$vm_pid" "$cur_name"
	stop_vm "$noise_pid" "oversub-noise-$$"
	[ -n "$cgroup" ] && cgroup_uncap "$cgroup"
	stat_pid= vm_pid= noise_pid= cgroup=
}
cleanup() {
	trap - EXIT INT TERM
	cleanup_cell
	pvlockd_session_stop
}
trap cleanup EXIT
trap 'echo; echo "$prog: interrupted; results so far are in $out (--resume continues)"; exit 130' INT
trap 'exit 143' TERM

step "host: pvlockd (the channel's daemon)"
pvlockd_session_start || exit 1

# ---- scenario pieces -----------------------------------------------------------
start_noise() {
	host/pvlock-qemu -q --name "oversub-noise-$$" --smp 2 --host-cpus 0-1 --channel off \
		--timeout 0 --console-log "$out/noise.console" \
		--run 'for i in 1 2; do (while :; do :; done) & done; echo NOISE-UP; while :; do sleep 1; echo busy; done' \
		>"$out/noise.out" 2>&1 &
	noise_pid=$!
	for _ in $(seq 1200); do
		grep -q NOISE-UP "$out/noise.out" 2>/dev/null && return 0
		kill -0 "$noise_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "$prog: the neighbour VM did not come up: $(tail -n 5 "$out/noise.out")" >&2
	return 1
}

# ---- one cell: a scenario at one level with one workload --------------------------
policy_list=$(tr , ' ' <<<"$policies")
npol=$(wc -w <<<"$policy_list")
ntk=$(tr , ' ' <<<"$takeover_workloads" | wc -w)
ncells=$(wc -w <<<"$cells")
# The guest side of a part is pvlock-sweep, a tool in the guest image.
sweep_opts=
[ $trace = 1 ] && sweep_opts+=" --trace --trace-ms $trace_ms"
# takes_over SCENARIO LEVEL WORKLOAD: whether the part runs the takeover's
# workloads too (with the short critical section only: the takeover part
# does not depend on the harness's workload).
takes_over() {
	[ $takeover = 1 ] && [ "$3" = short ] &&
		case ",$takeover_parts," in *,all,*|*",$1:$2,"*) true ;; *) false ;; esac
}
tk_opts=" --takeover --takeover-workloads $takeover_workloads --takeover-seconds $takeover_secs"

# cell_layout SCENARIO LEVEL: the guest's vCPUs (smp) and the host CPUs
# its QEMU is pinned to (cpus), and on how many threads the guest
# measures its own ceiling (ceil_threads; 0: it does not).  An overcommitted
# config measures it in the same guest, interleaved with the reps
# (pvlock-sweep --ceiling-threads): native on as many threads as it has
# host CPUs, the other vCPUs idle, which is the 1x figure on those host
# CPUs without another guest's drift; on one host CPU that is the
# single-thread rate.  The others are held against 1x's native figure.
cell_layout() {
	case "$1:$2" in
	overcommit:1x) smp=2 cpus=0-1 ;;
	overcommit:2x) smp=4 cpus=0-1 ;;
	overcommit:4x) smp=4 cpus=0 ;;
	overcommit:8x2) smp=8 cpus=0-1 ;;
	noisy:1x|capped:1cpu) smp=2 cpus=0-1 ;;
	esac
	ceil_threads=0
	case "$1:$2" in
	overcommit:2x|overcommit:8x2) ceil_threads=2 ;;
	overcommit:4x) ceil_threads=1 ;;
	esac
}
# cell_runs SCENARIO LEVEL WORKLOAD: the harness and workload runs of one part.
cell_runs() {
	local smp cpus ceil_threads tk=0
	cell_layout "$1" "$2"
	takes_over "$1" "$2" "$3" && tk=1
	echo $((npol * (reps + trace) + reps * (ceil_threads > 0) + 2 * reps * tk * ntk))
}
# The sweep's plan, for the time left in the progress lines
# (bench/lib/progress.sh): a harness or workload run is its length plus
# about 0.9 s (run K, 2 s runs: 285 runs and 6 boots in 16 min), a
# traced run also pvlocktrace's start (TRACE_ATTACH_MS); the user-space
# part plans its own.  Parts done in an earlier run are not in it.
TRACE_ATTACH_MS=1500
cell_plan_ms() { # scenario level workload
	local lock_runs tk_runs=0 boots=1 traced=$((npol * trace))
	takes_over "$1" "$2" "$3" && tk_runs=$((2 * reps * ntk))
	lock_runs=$(($(cell_runs "$1" "$2" "$3") - tk_runs - traced))
	[ "$1" = noisy ] && boots=2	# and the neighbour's
	echo $((lock_runs * (dur + 900) + traced * (trace_ms + 900 + TRACE_ATTACH_MS) +
		tk_runs * (takeover_secs * 1000 + 900) + PROGRESS_BOOT_MS * boots))
}
cell_tag() { # scenario level workload
	local conf=$2
	[ "$3" = short ] || conf=$2/$3
	echo "${1}_${conf//\//-}"
}
us_opts=(--configs "$us_configs" --reps "$reps" --duration-ms "$dur")
[ $smoke = yes ] && us_opts=(--configs 1x --workloads micro --reps 1 --duration-ms 300)
plan_ms=0
for cell in $cells; do
	IFS=: read -r scen level wl <<<"$cell"
	[ -e "$out/done/$(cell_tag "$scen" "$level" "$wl")" ] ||
		plan_ms=$((plan_ms + $(cell_plan_ms "$scen" "$level" "$wl")))
done
if [ $userspace = 1 ] && ! [ -e "$out/done/userspace" ]; then
	plan_ms=$((plan_ms + $(bench/userspace_locks.sh --plan-ms "${us_opts[@]}"))) ||
		die "bench/userspace_locks.sh cannot plan its part"
fi
k=0 failed=0 done_ms=0
sweep_start=$SECONDS
progress_start "$plan_ms"

# cell_failed MESSAGE: a part that cannot go on; stop what it started.
cell_failed() {
	echo "$prog: $*" >&2
	cleanup_cell
	return 1
}

run_cell() { # scenario level workload config tag
	local scen=$1 level=$2 wl=$3 conf=$4 tag=$5 smp cpus ceil_threads cs=1000 ncs=1000 locks=1 rc
	local runs plan cell_secs
	runs=$(cell_runs "$scen" "$level" "$wl") plan=$(cell_plan_ms "$scen" "$level" "$wl")
	cell_secs=$((runs * (dur + 400) / 1000 + 20))
	cell_layout "$scen" "$level"
	case "$wl" in
	long) cs=10000 ncs=10000 ;;
	locks4) locks=4 ;;
	esac
	cur_name=oversub-$$-$tag

	if [ "$scen" = noisy ]; then
		echo "  starting the neighbour VM (2 vCPUs of busy loops on CPUs 0-1)"
		start_noise || { cleanup_cell; return 1; }
	fi
	# The capped VM's QEMU starts inside the cgroup (pvlock-qemu --cgroup):
	# capped from its first instruction, with no pid to look up.
	local in_cgroup=()
	if [ "$scen" = capped ]; then
		cgroup=$(cgroup_cap "pvli-oversub-$$" 100000 100000) ||
			cell_failed "cannot set up the CPU cap cgroup" || return 1
		in_cgroup=(--cgroup "$cgroup")
		echo "  CFS bandwidth cap: one CPU's worth ($cgroup)"
	fi

	# Each result line is tagged with the part it belongs to.
	local sweep="pvlock-sweep --policies $policies --reps $reps --duration-ms $dur"
	sweep+=" --cs-ns $cs --ncs-ns $ncs --locks $locks --channel-wait 10$sweep_opts"
	takes_over "$scen" "$level" "$wl" && sweep+=$tk_opts
	[ $ceil_threads -gt 0 ] && sweep+=" --ceiling-threads $ceil_threads"
	sweep+=" --tag $(printf %q "\"scenario\":\"$scen\",\"config\":\"$conf\",\"workload\":\"$wl\",")"
	host/pvlock-qemu -q --name "$cur_name" --smp "$smp" --host-cpus "$cpus" --channel on "${in_cgroup[@]}" "${initrd[@]}" \
		--timeout $((cell_secs * 3 + 120)) --console-log "$out/$tag.console" \
		--run "$sweep" \
		>"$out/$tag.out" 2>&1 &
	vm_pid=$!

	# pvlockstat follows the VM once pvlockd has registered it.
	pvlockd_wait_vm "$cur_name" "$vm_pid" ||
		cell_failed "the $scen $conf guest: $(tail -n 3 "$out/$tag.out" | tr '\n' ' ')" || return 1
	build/host/pvlockstat -j --vm "$cur_name" 1 >"$out/pvlockstat-$tag.jsonl" \
		2>"$out/pvlockstat-$tag.err" &
	stat_pid=$!

	# Progress: the guest's "run k/n" lines, with the time left (run k
	# begun: its boot and k-1 runs of the part are done).
	progress_follow "$vm_pid" "$out/$tag.out" "$scen $conf" $((done_ms + PROGRESS_BOOT_MS)) \
		$((plan - PROGRESS_BOOT_MS)) "$runs"
	wait "$vm_pid"
	rc=$?
	vm_pid=
	grep '^{' "$out/$tag.out" >>"$out/results.jsonl"
	sed -n 's/^TRACE //p' "$out/$tag.out" >>"$out/trace.jsonl"
	sed -n 's/^TRACEDRUN //p' "$out/$tag.out" >>"$out/traced_runs.jsonl"
	sed -n 's/^TAKEOVER //p' "$out/$tag.out" >>"$out/takeover.jsonl"
	sed -n 's/^CEILING //p' "$out/$tag.out" >>"$out/ceiling.jsonl"
	cleanup_cell
	if [ $rc -ne 0 ]; then
		echo "$prog: the $scen $conf guest failed (exit $rc): $(grep -v '^{' "$out/$tag.out" | tail -n 3 | tr '\n' ' ')" >&2
		echo "  its results so far are kept; see $out/$tag.out and $out/$tag.console" >&2
		return 1
	fi
	# Without the host's counts the part's LHP/LWP figures would be missing.
	if ! grep -q '^pvlockstat: counting' "$out/pvlockstat-$tag.err"; then
		echo "$prog: pvlockstat never counted the $scen $conf guest: $(tail -n 3 "$out/pvlockstat-$tag.err" | tr '\n' ' ')" >&2
		return 1
	fi
	: >"$out/done/$tag"
}

step "sweep: $ncells part(s) [$(tr ' ' ',' <<<"${cells# }")], $npol policies x $reps reps of $dur ms, about $(((plan_ms + 30000) / 60000 > 0 ? (plan_ms + 30000) / 60000 : 1)) min planned; results in $out"
for cell in $cells; do
	k=$((k + 1))
	IFS=: read -r scen level wl <<<"$cell"
	conf=$level; [ "$wl" = short ] || conf=$level/$wl
	tag=$(cell_tag "$scen" "$level" "$wl")
	if [ -e "$out/done/$tag" ]; then
		echo "  [$k/$ncells] $scen $conf: done in an earlier run, kept"
		continue
	fi
	if [ $resume = yes ] && [ -e "$out/$tag.out" ]; then
		# a part that did not finish: drop its partial results and run it again
		for f in results trace traced_runs takeover ceiling; do
			grep -v "\"scenario\":\"$scen\",\"config\":\"$conf\"," "$out/$f.jsonl" >"$out/$f.tmp" 2>/dev/null
			mv -f "$out/$f.tmp" "$out/$f.jsonl" 2>/dev/null
		done
	fi
	echo "  [$k/$ncells] $scen $conf (workload: $wl)"
	run_cell "$scen" "$level" "$wl" "$conf" "$tag" || failed=$((failed + 1))
	done_ms=$((done_ms + $(cell_plan_ms "$scen" "$level" "$wl")))
done

# ---- the user-space locks part: libpvlock (bench/userspace_locks.sh) ------------
if [ $userspace = 1 ] && [ -e "$out/done/userspace" ]; then
	echo "  user-space locks: done in an earlier run, kept"
elif [ $userspace = 1 ]; then
	step "user-space locks: libpvlock vs glibc (glibc default, adaptive, guest-only, both levels)"
	rm -f "$out/userspace.jsonl"
	if bench/userspace_locks.sh --no-setup --no-report --out "$out" "${us_opts[@]}" \
		--progress "$(progress_arg "$done_ms")"; then
		: >"$out/done/userspace"
	else
		echo "$prog: the user-space locks part failed; see $out/userspace-*.out" >&2
		failed=$((failed + 1))
	fi
fi

el=$((SECONDS - sweep_start))
step "summary ($out; the sweep took $((el / 60)):$(printf %02d $((el % 60))) after set-up)"
python3 bench/oversub_report.py "$out" || exit 1
if [ $failed -gt 0 ]; then
	echo "$prog: $failed part(s) failed; rerun with --resume --out $out to retry them" >&2
	exit 1
fi
