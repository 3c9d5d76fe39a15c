# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the tests that break pvlockd on purpose; sourced after
# lib.sh.  They run a pvlockd of their own (a test that kills it -9 must
# not kill somebody else's), VMs that are fake-qemu processes (real
# threads, a QMP socket; tests/helpers/fake-qemu.py) or real guests, and
# check after every fault that no VM receives another VM's records
# (tests/helpers/pvli-xcheck.py).

FAKE_QEMU=$PVLI_SRC/tests/helpers/fake-qemu.py
XCHECK=$PVLI_SRC/tests/helpers/pvli-xcheck.py
CTL_LATENCY=$PVLI_SRC/tests/helpers/ctl-latency.py
PVLOCKD_SOCK=/run/pvlockinfo/pvlockd.sock
PIN_VMS=/sys/fs/bpf/pvlockinfo/vms
META_DIR=/run/pvlockinfo/vms

OWN_PVLOCKD=
OWN_USED=

# own_pvlockd [ARGS...]: start a pvlockd of this test's own (its output
# appended to $PVLI_LOGDIR/pvlockd.log; the environment passes through,
# PVLOCKD_FAULT included) and wait until it answers.  Skips the test if
# a pvlockd it did not start runs.  At exit: stopped, pins removed.
own_pvlockd() {
	if [ -z "$OWN_USED" ]; then
		"$PVLOCKCTL" status >/dev/null 2>&1 &&
			skip "a pvlockd this test did not start is running; it will not kill it"
		mount_bpffs
		OWN_USED=yes
		at_exit own_pvlockd_cleanup
	fi
	echo "--- pvlockd $* ${PVLOCKD_FAULT:+(PVLOCKD_FAULT=$PVLOCKD_FAULT)}" >>"$PVLI_LOGDIR/pvlockd.log"
	"$PVLOCKD" "$@" >>"$PVLI_LOGDIR/pvlockd.log" 2>&1 &
	OWN_PVLOCKD=$!
	for _ in $(seq 100); do
		"$PVLOCKCTL" status >/dev/null 2>&1 && return 0
		kill -0 "$OWN_PVLOCKD" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$PVLI_LOGDIR/pvlockd.log" | sed 's/^/  /'
	return 1
}

# kill9_pvlockd: kill our pvlockd the hard way (pins, state and its
# socket stay, as after a crash).
kill9_pvlockd() {
	[ -n "$OWN_PVLOCKD" ] || return 0
	kill -KILL "$OWN_PVLOCKD" 2>/dev/null
	wait "$OWN_PVLOCKD" 2>/dev/null
	OWN_PVLOCKD=
}

# wait_pvlockd_dead SECS: until our pvlockd has exited (it killed itself).
wait_pvlockd_dead() {
	for _ in $(seq $(($1 * 10))); do
		kill -0 "$OWN_PVLOCKD" 2>/dev/null || { wait "$OWN_PVLOCKD" 2>/dev/null; OWN_PVLOCKD=; return 0; }
		sleep 0.1
	done
	return 1
}

own_pvlockd_cleanup() {
	local p
	for p in "${FAKE_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
	for p in "${FAKE_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$OWN_PVLOCKD" ]; then
		kill -TERM "$OWN_PVLOCKD" 2>/dev/null
		wait "$OWN_PVLOCKD" 2>/dev/null
	fi
	"$PVLOCKD" --teardown >>"$PVLI_LOGDIR/pvlockd.log" 2>&1
}

FAKE_PIDS=()
declare -A FAKE_PID=()

# fake_start NAME NVCPUS [fake-qemu ARGS...]: start a fake QEMU for VM
# NAME with its QMP socket at $PVLI_LOGDIR/NAME.qmp; sets FAKE_PID[NAME].
fake_start() {
	local name=$1 n=$2 sock=$PVLI_LOGDIR/$1.qmp pf=$PVLI_LOGDIR/$1.pid
	shift 2
	rm -f "$pf"
	"$FAKE_QEMU" --qmp "$sock" --vcpus "$n" --pidfile "$pf" "$@" >"$PVLI_LOGDIR/$name.fake" 2>&1 &
	FAKE_PIDS+=($!)
	FAKE_PID[$name]=$!
	for _ in $(seq 100); do
		[ -s "$pf" ] && return 0
		kill -0 "${FAKE_PID[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	fail "fake QEMU $name did not come up: $(cat "$PVLI_LOGDIR/$name.fake")"
}

# fake_vm NAME NVCPUS [fake-qemu ARGS...]: register VM NAME (with the
# options in $REGISTER_OPTS), start its fake QEMU mapping the page,
# attach it.  Fails the test if any step does.
fake_vm() {
	local name=$1 n=$2 reply pin
	shift 2
	reply=$("$PVLOCKCTL" register "$name" "$n" tcg ${REGISTER_OPTS:-}) || fail "register $name: $reply"
	pin=$(cut -d' ' -f2 <<<"$reply")
	fake_start "$name" "$n" --map-pin "$pin" "$@"
	reply=$("$PVLOCKCTL" attach "$name" "$PVLI_LOGDIR/$name.qmp" 2>&1) ||
		fail "attach $name: $reply"
}

# xcheck [--strict] NAME...: no VM receives another VM's records; the
# VMs are fakes started here (or NAME=PID for others).
xcheck() {
	local args=() v
	for v in "$@"; do
		case "$v" in
		--*|*=*) args+=("$v") ;;
		*) args+=("$v=${FAKE_PID[$v]}") ;;
		esac
	done
	"$XCHECK" "${args[@]}" || fail "a VM receives another VM's records (above)"
}

# listed NAME: does pvlockd list VM NAME?
listed() {
	"$PVLOCKCTL" status 2>/dev/null | matches "^VM $1 "
}

# attached NAME: does pvlockd list VM NAME as attached?
attached() {
	"$PVLOCKCTL" status 2>/dev/null | matches "^VM $1 (.*, attached)"
}

# vcpus_entry TID: "SLOT VCPU" of thread TID's registration, or nothing
# (bpftool -j prints a JSON error object, not nothing, for a missing key).
vcpus_entry() {
	bpftool -j map lookup pinned /sys/fs/bpf/pvlockinfo/maps/vcpus \
		key $(printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) \
			$(($1 >> 16 & 255)) $(($1 >> 24 & 255))) 2>/dev/null |
		jq -r '.formatted.value // empty | "\(.vm_slot) \(.vcpu)"' 2>/dev/null
}

# fake_tids NAME: its vCPU thread ids, as it printed them.
fake_tids() {
	sed -n 's/^vcpus //p' "$PVLI_LOGDIR/$1.fake"
}
