# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the bench scripts (from the top of the tree): use the running
# pvlockd, or start one for this session and stop it (removing its pins)
# at the end.

pvlockd_session_pid=

pvlockd_session_start() {
	local ctl=build/host/pvlockctl
	if "$ctl" status >/dev/null 2>&1; then
		echo "using the pvlockd already running"
		return 0
	fi
	build/host/pvlockd -l warn &
	pvlockd_session_pid=$!
	for _ in $(seq 50); do "$ctl" status >/dev/null 2>&1 && break; sleep 0.1; done
	if ! "$ctl" status >/dev/null 2>&1; then
		echo "pvlockd did not start (run build/host/pvlockd -l debug to see why)" >&2
		return 1
	fi
	echo "started pvlockd (pid $pvlockd_session_pid); it is stopped and its pins removed at the end"
}

pvlockd_session_stop() {
	[ -n "$pvlockd_session_pid" ] || return 0
	kill "$pvlockd_session_pid" 2>/dev/null
	wait "$pvlockd_session_pid" 2>/dev/null
	build/host/pvlockd --teardown >/dev/null 2>&1
	pvlockd_session_pid=
}

# pvlockd_wait_vm NAME PID: until pvlockd has registered VM NAME (at most
# 30 s), or its pvlock-qemu (PID) has ended.
pvlockd_wait_vm() {
	for _ in $(seq 300); do
		build/host/pvlockctl status --json 2>/dev/null | grep -q "\"$1\"" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
