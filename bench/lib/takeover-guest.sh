# SPDX-License-Identifier: GPL-2.0-only
# Sourced (bash) by the takeover benchmarks, bench/takeover.sh,
# bench/takeover_bound.sh and bench/takeover_entry.sh: the host side they
# share.  All measure in guests with the channel, one guest at a time,
# and leave nothing behind.
#
#   tk_session_start   from the tree's top: checks the build, makes the
#                      scratch directory $tk_tmp, starts pvlockd for the
#                      session if none runs, and traps EXIT to stop the
#                      guest and pvlockd and remove $tk_tmp
#   tk_guest_prelude   the start of every guest script: loads pvlockinfo
#                      and waits up to 10 s for the channel (exit 10/11);
#                      defines tk_counters P, which sets P_NAME=N for every
#                      takeover counter (pvli-takeover counters: one read),
#                      tk_vcpus (the vCPUs' summed run and steal ms, from
#                      pvlockinfo's debugfs vcpus) and tk_now_ms
#   tk_run_guest NAME SMP CPUS OUT SCRIPT
#                      boots a guest running SCRIPT, its output in OUT,
#                      and echoes its progress lines (those starting with
#                      two blanks and a digit) as they come; fails, saying
#                      why, when the guest does; boots the image
#                      $tk_initrd when set (the benches' image, with
#                      stress-ng and perf), else the default one
#
# The workload benches (bench/takeover.sh, bench/takeover_bound.sh) also
# share their options and configurations:
#
#   tk_workload_opt OPT VALUE
#                      one of --configs, --reps, --workloads, --groups,
#                      --loops, --seconds: sets configs, reps, workloads,
#                      groups, loops or secs and returns 0 (the caller
#                      shifts VALUE too); 1 for any other option
#   tk_check_workload_opts
#                      exits 2, saying why, unless those are sound
#   tk_config C        sets smp and cpus for configuration C (1x: 2 vCPUs
#                      on host CPUs 0-1, 2x: 4 on 0-1, 4x: 4 on 0)
#   tk_workload_session
#                      as root, from the tree's top: tk_session_start with
#                      the benches' image (stress-ng, perf)
#
# The caller sets $prog (for messages) before sourcing; the lib may be
# sourced from any directory.

. "$(dirname "${BASH_SOURCE[0]}")/../../host/vm-session.sh"

tk_all_workloads="hackbench messaging msg flock futex fork"

tk_workload_opt() {
	case "$1" in --configs|--reps|--workloads|--groups|--loops|--seconds) ;; *) return 1 ;; esac
	[ -n "${2:-}" ] || { echo "$prog: $1 needs a value" >&2; exit 2; }
	case "$1" in
	--configs) configs=$(tr , ' ' <<<"$2") ;;
	--reps) reps=$2 ;;
	--workloads) workloads=$(tr , ' ' <<<"$2") ;;
	--groups) groups=$2 ;;
	--loops) loops=$2 ;;
	--seconds) secs=$2 ;;
	esac
}

tk_check_workload_opts() {
	local c w
	case "$reps$groups$loops$secs" in
	*[!0-9]*|'') echo "$prog: --reps, --groups, --loops and --seconds want numbers" >&2; exit 2 ;;
	esac
	[ "$reps" -ge 1 ] || { echo "$prog: --reps must be at least 1" >&2; exit 2; }
	for c in $configs; do
		case "$c" in 1x|2x|4x) ;; *) echo "$prog: unknown config '$c' (1x, 2x, 4x)" >&2; exit 2 ;; esac
	done
	for w in $workloads; do
		case " $tk_all_workloads " in
		*" $w "*) ;;
		*) echo "$prog: unknown workload '$w' (${tk_all_workloads// /, })" >&2; exit 2 ;;
		esac
	done
}

tk_config() {
	case "$1" in
	1x) smp=2 cpus=0-1 ncpus=2 ;;
	2x) smp=4 cpus=0-1 ncpus=2 ;;
	4x) smp=4 cpus=0 ncpus=1 ;;
	esac
}

tk_vm_pid=
tk_tmp=
tk_initrd=

tk_cleanup() {
	[ -n "$tk_vm_pid" ] && { kill -TERM "$tk_vm_pid" 2>/dev/null; wait "$tk_vm_pid" 2>/dev/null; }
	tk_vm_pid=
	pvlockd_session_stop
	[ -n "$tk_tmp" ] && rm -rf "$tk_tmp"
}

tk_session_start() {
	local f
	for f in build/vm.env $tk_initrd; do
		[ -e "$f" ] || { echo "$prog: $f is missing: run make" >&2; return 2; }
	done
	tk_tmp=$(mktemp -d) || return 2
	trap tk_cleanup EXIT
	trap 'exit 130' INT TERM
	pvlockd_session_start
}

tk_guest_prelude='
modprobe pvlockinfo || exit 10
for i in $(seq 100); do grep -q "available: yes" /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
grep -q "available: yes" /sys/kernel/debug/pvlockinfo/status || { echo "no channel after 10 s"; exit 11; }
tk_counters() { eval "$(pvli-takeover counters | sed "s/\([a-z_]*\)=/$1_\1=/g")"; }
# tk_vcpus: the vCPUs summed run and steal time now, "RUN_MS STEAL_MS"; every
# vCPU record must answer (a torn read is retried), or the sums would drop
# one vCPU time since boot
tk_vcpus() {
	local i v n
	n=$(grep -c ^processor /proc/cpuinfo)
	for i in $(seq 20); do
		v=$(awk -v want="$n" "NR > 1 { n++; if (NF >= 6) { r += \$6; s += \$5; k++ } } END { if (n == k && n == want) print r + 0, s + 0 }" /sys/kernel/debug/pvlockinfo/vcpus)
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.05
	done
	echo "a vCPU record does not answer: $(cat /sys/kernel/debug/pvlockinfo/vcpus)" >&2
	return 1
}
tk_now_ms() { awk "{ printf \"%d\", \$1 * 1000 }" /proc/uptime; }
'

tk_run_guest() { # name smp cpus out script
	local shown=0 n initrd=()
	[ -n "$tk_initrd" ] && initrd=(--initrd "$tk_initrd")
	host/pvlock-qemu -q --name "$1" --smp "$2" --host-cpus "$3" --channel on "${initrd[@]}" \
		--timeout 1800 --run "$tk_guest_prelude$5" >"$4" 2>&1 &
	tk_vm_pid=$!
	while kill -0 "$tk_vm_pid" 2>/dev/null; do
		sleep 1
		n=$(grep -c '^  [0-9]' "$4")
		[ "$n" -gt "$shown" ] && grep '^  [0-9]' "$4" | sed -n "$((shown + 1)),${n}p"
		shown=$n
	done
	if ! wait "$tk_vm_pid"; then
		tk_vm_pid=
		echo "$prog: the guest $1 failed: $(tail -n 5 "$4")" >&2
		return 1
	fi
	tk_vm_pid=
	grep '^  [0-9]' "$4" | sed -n "$((shown + 1)),\$p"
}

tk_workload_session() {
	[ "$(id -u)" = 0 ] || { echo "$prog: needs root" >&2; exit 2; }
	cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
	tk_initrd=build/guest/initramfs-workloads.cpio.gz
	tk_session_start || exit 1
}
