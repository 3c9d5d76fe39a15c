# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the VM tests; sourced, not run.
#
# The runner sets PVLI_SRC, PVLI_BUILD and PVLI_LOGDIR.  Guest consoles
# saved as $PVLI_LOGDIR/*.console are scanned by the runner for kernel
# BUG/WARNING/Oops reports.

set -u -o pipefail

: "${PVLI_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PVLI_BUILD:=$PVLI_SRC/build}"
: "${PVLI_LOGDIR:=$(mktemp -d)}"
export PVLI_BUILD

WRAPPER=$PVLI_SRC/host/pvlock-qemu
BPFMAP=$PVLI_BUILD/tests/bpfmap-pin

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "# $*"; }
# grep -q for the end of a pipe: reads its input to the end.  "CMD | grep -q"
# under pipefail fails whenever grep quits on a match before CMD's last
# write and CMD dies of SIGPIPE, which turns a found line into "not found"
# (and a "must not be there" check into a pass) once the output is big.
matches() { grep "$@" >/dev/null; }

# vm NAME ARGS...: run pvlock-qemu with its console kept for the runner's scan.
vm() {
	local name=$1
	shift
	"$WRAPPER" -q --name "t-$name-$$" --console-log "$PVLI_LOGDIR/$name.console" "$@"
}

# Guest shell, for a --run script to start with: defines "watchdogs N",
# which prints the irqs-off halt watchdog timers (guest/lock/
# shim_kernel_nmi_arm.c) queued on each of CPUs 0..N-1 as "n0 n1 ... " (an
# offline CPU is not listed: 0).  Distinct timers over five looks at
# /proc/timer_list: one whose callback runs is not in a look, one that
# re-arms while the list is read may be in it twice.
GUEST_WATCHDOGS='watchdogs() {
	for i in 1 2 3 4 5; do cat /proc/timer_list; sleep 0.1; done |
	awk -v n="$1" "/^cpu: / { c = \$2 } /nmi_watch/ && !seen[c, \$2]++ { k[c]++ } END { for (i = 0; i < n; i++) printf \"%d \", k[i] }"
}
'

# Guest shell, for a --run script of the takeover tests: defines
# "adaptive_wait PATTERN TENTHS", which waits up to TENTHS tenths of a
# second until the takeover's adaptive parameter matches the shell
# pattern PATTERN and prints "ok", or "timeout: " and what it says, and
# "state WANT TENTHS", the same until the adaptive entry runs WANT
# (direct or slowpath).  It reads with the shell's own read, not $(cat):
# at 4x a fork every look is steal enough to count (the rule switches on
# steal, so the waiting must not make any).
GUEST_ADAPT_STATE='adaptive_wait() {
	i=0
	while [ $i -lt $2 ]; do
		read -r now </sys/module/pvlockinfo_takeover/parameters/adaptive
		case "$now" in $1) echo ok; return ;; esac
		sleep 0.1; i=$((i + 1))
	done
	echo "timeout: $now"
}
state() { adaptive_wait "$1 steal *" $2; }
'

expect_eq() { # what got want
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	note "$1: '$2' as expected"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (bpf(2), bpffs)"
}

# bpffs is not mounted on a fresh machine.
mount_bpffs() {
	need_root
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs on /sys/fs/bpf"
	fi
}

# Cleanups run at exit, last registered first.
CLEANUPS=()
at_exit() { CLEANUPS=("$1" "${CLEANUPS[@]}"); }
run_cleanups() { local c; for c in "${CLEANUPS[@]}"; do eval "$c"; done; }
trap run_cleanups EXIT

# A private pin directory, removed when the test exits.
pin_dir() {
	PIN_DIR=/sys/fs/bpf/pvli-test-$$
	mkdir -p "$PIN_DIR" || fail "cannot create $PIN_DIR"
	at_exit 'rm -rf "$PIN_DIR"'
}

PVLOCKD=$PVLI_BUILD/host/pvlockd
PVLOCKCTL=$PVLI_BUILD/host/pvlockctl

# pvlockd for a session, waiting for a VM, QMP (qmp NAME JSON), vCPU
# threads and pinning, shared with the benchmarks; and CFS-capped cgroups.
. "$PVLI_SRC/host/vm-session.sh"
. "$PVLI_SRC/host/cgroup-cap.sh"

# Use the running pvlockd, or start one for this test (its log in
# $PVLI_LOGDIR/pvlockd.log); one started here is stopped and its pins
# removed at exit.
start_pvlockd() {
	mount_bpffs
	pvlockd_session_start "$PVLI_LOGDIR/pvlockd.log" ||
		fail "pvlockd did not come up (log: $PVLI_LOGDIR/pvlockd.log)"
	at_exit pvlockd_session_stop
}

# stop_pvlockd: stop the pvlockd start_pvlockd started, keeping its pins
# for the next one (removed at exit).
stop_pvlockd() {
	pvlockd_session_stop --keep-pins
}

# all_policies: the harness's lock policies, comma-separated, in report
# order (the one list, guest/tools/lock-policies).
all_policies() {
	grep -v '^#' "$PVLI_SRC/guest/tools/lock-policies" | paste -sd, -
}

# wait_for FILE PATTERN SECONDS: until a line of FILE matches.
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# guest_preempts FILE NVCPUS: the preemption counts of vCPUs 0..NVCPUS-1
# in the last table of /sys/kernel/debug/pvlockinfo/vcpus a guest printed
# to FILE, space-separated; fails unless every one is non-zero.
guest_preempts() {
	tr -d '\r' <"$1" | awk -v n="$2" '
		$1 ~ /^[0-9]+$/ && NF > 4 { p[$1] = $4 }
		END {
			for (i = 0; i < n; i++) { printf "%s%d", i ? " " : "", p[i]; if (!p[i]) bad = 1 }
			print ""
			exit bad
		}'
}

# vcpu_registered TID: pvlockd's pinned vCPU map has an entry for thread TID.
vcpu_registered() {
	bpftool map lookup pinned /sys/fs/bpf/pvlockinfo/maps/vcpus key $(printf '%d %d %d %d' \
		$(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))) >/dev/null 2>&1
}

# vm_registered NAME: pvlockd lists VM NAME.
vm_registered() {
	"$PVLOCKCTL" status --json | jq -e --arg n "$1" 'any(.vms[]; .name == $n)' >/dev/null
}

# vm_left_nothing NAME PIN TIDS: VM NAME is gone without a trace: pvlockd
# does not list it, its page's pin directory is gone, and none of its
# vCPU threads TIDS runs or is registered.
vm_left_nothing() {
	local t
	vm_registered "$1" && fail "$1 is still registered"
	[ ! -e "$(dirname "$2")" ] || fail "$1's pin directory $(dirname "$2") is left behind"
	for t in $3; do
		[ ! -e "/proc/$t" ] || fail "vCPU thread $t of $1 still runs"
		vcpu_registered "$t" && fail "vCPU thread $t of $1 is still registered"
	done
}
