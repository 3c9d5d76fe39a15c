# SPDX-License-Identifier: GPL-2.0-only
# Sourced (bash) by the scripts that run pvlockinfo VMs on this host, the
# benchmarks in bench/ and the VM tests (tests/vm/lib.sh): pvlockd for the
# session, waiting for a VM launched with host/pvlock-qemu, its QMP
# monitor, and pinning its vCPU threads.
#
# Every wait here returns non-zero and says why on stderr when what it
# waits for does not happen; callers check it.
#
# Binaries come from $PVLI_BUILD (default: build/ of this tree); VM run
# directories from /run/pvlockinfo/qemu (pvlock-qemu's default --run-dir).

pvli_session_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pvli_session_build=${PVLI_BUILD:-$(dirname "$pvli_session_here")/build}
pvli_session_ctl=$pvli_session_build/host/pvlockctl
pvli_session_rundir=/run/pvlockinfo/qemu

pvlockd_session_pid=	# the pvlockd this session started and runs
pvlockd_session_ours=	# set while pins of a pvlockd we started may remain
pvlockd_session_log=

# pvlockd_session_start [LOG]: use the pvlockd that is running, or start
# one for this session; pvlockd_session_stop stops it and removes its pins.
# Its output is appended to LOG, or, without LOG, only its warnings go to
# stderr.  Fails, saying why, if it has not answered within 10 s.
pvlockd_session_start() {
	pvlockd_session_log=${1:-}
	if "$pvli_session_ctl" status >/dev/null 2>&1; then
		echo "using the pvlockd already running"
		return 0
	fi
	if [ -n "$pvlockd_session_log" ]; then
		"$pvli_session_build/host/pvlockd" >>"$pvlockd_session_log" 2>&1 &
	else
		"$pvli_session_build/host/pvlockd" -l warn &
	fi
	pvlockd_session_pid=$!
	pvlockd_session_ours=yes
	for _ in $(seq 100); do
		if "$pvli_session_ctl" status >/dev/null 2>&1; then
			echo "started pvlockd (pid $pvlockd_session_pid); it is stopped and its pins removed at the end"
			return 0
		fi
		kill -0 "$pvlockd_session_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pvlockd_session_pid" 2>/dev/null; then
		echo "pvlockd did not answer within 10 s" >&2
	else
		echo "pvlockd exited at start" >&2
	fi
	if [ -n "$pvlockd_session_log" ]; then
		tail -n 20 "$pvlockd_session_log" | sed 's/^/  /' >&2
	else
		echo "  (run $pvli_session_build/host/pvlockd -l debug to see why)" >&2
	fi
	pvlockd_session_stop
	return 1
}

# pvlockd_session_stop [--keep-pins]: stop the pvlockd this session
# started, if any, and remove its pins (unless --keep-pins: a pvlockd
# started next adopts them).  A pvlockd the session found running is left
# alone.
pvlockd_session_stop() {
	if [ -n "$pvlockd_session_pid" ]; then
		kill -TERM "$pvlockd_session_pid" 2>/dev/null
		wait "$pvlockd_session_pid" 2>/dev/null
		pvlockd_session_pid=
	fi
	[ "${1:-}" = --keep-pins ] && return 0
	[ -n "$pvlockd_session_ours" ] || return 0
	"$pvli_session_build/host/pvlockd" --teardown >>"${pvlockd_session_log:-/dev/null}" 2>&1
	pvlockd_session_ours=
}

# __vm_poll PID SECS CHECK...: run CHECK every 0.1 s until it succeeds
# (returns 0), the VM's pvlock-qemu (PID) has ended (1), or SECS have
# passed (2).
__vm_poll() {
	local pid=$1 secs=$2
	shift 2
	for _ in $(seq $((secs * 10))); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 2
}

__pvlockd_lists() {
	"$pvli_session_ctl" status --json 2>/dev/null |
		jq -e --arg n "$1" '.vms[] | select(.name == $n)' >/dev/null
}

# pvlockd_wait_vm NAME PID [SECS]: until pvlockd lists VM NAME, whose
# pvlock-qemu runs as PID; at most SECS [30].  pvlock-qemu registers the
# VM before it starts QEMU: a listed VM may not have a QEMU pid yet (see
# vm_wait_qemu).
pvlockd_wait_vm() {
	__vm_poll "$2" "${3:-30}" __pvlockd_lists "$1"
	case $? in
	0) return 0 ;;
	1) echo "VM $1 ended before pvlockd listed it" >&2 ;;
	*) echo "pvlockd did not list VM $1 within ${3:-30} s" >&2 ;;
	esac
	return 1
}

__qemu_up() { # run-dir
	local qp
	qp=$(cat "$1/qemu.pid" 2>/dev/null)
	[ -n "$qp" ] && [ -S "$1/qmp.sock" ] && kill -0 "$qp" 2>/dev/null
}

# vm_wait_qemu NAME PID [SECS]: until the QEMU of VM NAME (pvlock-qemu
# running as PID) has written its pid file and listens on its QMP socket;
# prints QEMU's pid.  At most SECS [30].
vm_wait_qemu() {
	local d=$pvli_session_rundir/$1
	__vm_poll "$2" "${3:-30}" __qemu_up "$d"
	case $? in
	0) cat "$d/qemu.pid"; return 0 ;;
	1) echo "VM $1 ended before its QEMU was up" >&2 ;;
	*) echo "the QEMU of VM $1 did not write $d/qemu.pid and open $d/qmp.sock within ${3:-30} s" >&2 ;;
	esac
	return 1
}

# qmp NAME COMMAND-JSON: one QMP command to VM NAME; prints the reply as
# {"return": ...} (nothing, and a reason on stderr, when it failed).  A
# busy QEMU answers late: each exchange has 30 s (host/pvli-qmp).
qmp() {
	local ret
	ret=$("$pvli_session_here/pvli-qmp" "$pvli_session_rundir/$1/qmp.sock" "$2") || return 1
	printf '{"return":%s}\n' "$ret"
}

# vm_vcpu_tids NAME: the host thread ids of VM NAME's vCPUs, vCPU 0 first,
# one a line, from QMP.
vm_vcpu_tids() {
	local tids
	tids=$(qmp "$1" '{"execute":"query-cpus-fast"}' | jq -r '.return[]."thread-id"' 2>/dev/null)
	[ -n "$tids" ] || { echo "QMP query-cpus-fast of VM $1 gave no vCPU threads" >&2; return 1; }
	echo "$tids"
}

# vm_isolate_vcpu NAME QEMU-PID N CPU OTHERS: vCPU N of VM NAME alone on
# host CPU CPU, every other thread of its QEMU on OTHERS (a taskset list);
# prints the vCPU's thread id.
vm_isolate_vcpu() {
	local tids tid t
	tids=$(vm_vcpu_tids "$1") || return 1
	tid=$(sed -n "$(($3 + 1))p" <<<"$tids")
	[ -n "$tid" ] || { echo "VM $1 has no vCPU $3 (vCPU threads: $(tr "\n" " " <<<"$tids"))" >&2; return 1; }
	taskset -pc "$5" "$2" >/dev/null || { echo "cannot pin QEMU ($2) of VM $1 to CPUs $5" >&2; return 1; }
	# A thread may end between the listing and taskset: not an error.
	for t in /proc/"$2"/task/*; do taskset -pc "$5" "${t##*/}" >/dev/null 2>&1; done
	taskset -pc "$4" "$tid" >/dev/null || { echo "cannot pin vCPU $3 ($tid) of VM $1 to CPU $4" >&2; return 1; }
	echo "$tid"
}
