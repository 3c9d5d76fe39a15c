#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# A guest that panics, hangs or never boots makes pvlock-qemu fail with
# its own exit code and the console tail, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

# The panic is deliberate: keep its console out of the runner's scan.
err=$("$WRAPPER" -q --name "t-panic-$$" --run 'echo c >/proc/sysrq-trigger' 2>&1 >/dev/null)
expect_eq "exit status after a guest panic" "$?" 125
grep -q 'error: the guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash' <<<"$err" ||
	fail "no panic message: $err"
grep -q 'last lines of the guest console' <<<"$err" || fail "no console tail: $err"

err=$(vm hang --timeout 5 --run 'sleep 1000' 2>&1 >/dev/null)
expect_eq "exit status after --timeout" "$?" 124
grep -q "did not finish within 5 s" <<<"$err" || fail "no timeout message: $err"

# A kernel that is not a kernel: QEMU fails before the guest runs.
bogus=$(mktemp)
echo "not a kernel" >"$bogus"
err=$("$WRAPPER" -q --name "t-bogus-$$" --kernel "$bogus" --run true 2>&1 >/dev/null)
rc=$?
rm -f "$bogus"
expect_eq "exit status with a bogus kernel" "$rc" 125
grep -q "QEMU exited with status 1" <<<"$err" || fail "no QEMU error: $err"

err=$("$WRAPPER" --smp 0 --run true 2>&1)
expect_eq "exit status for --smp 0" "$?" 2
grep -q -- "--smp '0'" <<<"$err" || fail "no usage error: $err"

err=$("$WRAPPER" --host-cpus 99 --run true 2>&1)
expect_eq "exit status for --host-cpus 99" "$?" 2

# A socket left by a pvlockd that was killed: --channel auto boots without
# the channel and says why; --channel on refuses.
sock=/run/pvlockinfo/pvlockd.sock
if ! flock -n /run/pvlockinfo/pvlockd.lock true 2>/dev/null; then
	note "a pvlockd is running: not faking a stale socket"
elif [ -e "$sock" ] && [ ! -S "$sock" ]; then
	fail "$sock exists and is not a socket"
else
	mkdir -p /run/pvlockinfo
	[ -S "$sock" ] || python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock" ||
		fail "cannot create a stale socket at $sock"
	at_exit 'rm -f "$sock"'
	err=$(vm stale --run true 2>&1 >/dev/null)
	expect_eq "exit status with a stale pvlockd socket, --channel auto" "$?" 0
	grep -q "warning: pvlockd is not running.*stale.*booting without the channel" <<<"$err" ||
		fail "no stale-socket warning: $err"
	err=$(vm stale-on --channel on --run true 2>&1 >/dev/null)
	expect_eq "exit status with a stale pvlockd socket, --channel on" "$?" 125
	grep -q "channel on, but pvlockd is not running.*stale" <<<"$err" ||
		fail "no stale-socket error: $err"
fi

# Stopped with a signal, and another while it cleans up (a test's
# at_exit killing what it already killed, a second Ctrl-C): QEMU goes,
# and so do the run directory and the registration.
"$WRAPPER" -q --name "t-twice-$$" --run 'sleep 1000' >/dev/null 2>&1 &
wpid=$!
for _ in $(seq 300); do [ -s "/run/pvlockinfo/qemu/t-twice-$$/qemu.pid" ] && break; sleep 0.1; done
[ -s "/run/pvlockinfo/qemu/t-twice-$$/qemu.pid" ] || fail "the guest for the signal check did not start"
sleep 1
kill -TERM $wpid
sleep 0.2
kill -TERM $wpid 2>/dev/null
wait $wpid
expect_eq "exit status after SIGTERM, twice" "$?" 143

for n in panic hang bogus stale stale-on twice; do
	[ ! -e "/run/pvlockinfo/qemu/t-$n-$$" ] || fail "run directory of t-$n left behind"
done
if pgrep -f "name t-[a-z0-9]*-$$," >/dev/null; then
	fail "QEMU processes left behind: $(pgrep -af "name t-[a-z0-9]*-$$,")"
fi
note "nothing left behind"
