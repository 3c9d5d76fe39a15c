#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# pvlockd and pvlockctl turn bad requests into clear errors and leave
# nothing behind: non-root, no daemon, unknown VM, bad arguments, a dead
# QMP socket, a name registered twice.
. "$(dirname "$0")/lib.sh"

start_pvlockd

# expect_error 'WANT' CMD...: CMD must fail and say WANT.
expect_error() {
	local want=$1 out
	shift
	out=$("$@" 2>&1) && fail "'$*' succeeded: $out"
	grep -qF -- "$want" <<<"$out" || fail "'$*' said '$out', want '$want'"
	note "$*: $want"
}

expect_error "pvlockd: error: must run as root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PVLOCKD"
expect_error "another pvlockd is running" "$PVLOCKD"
expect_error "cannot reach pvlockd at /nonexistent.sock: No such file or directory (is pvlockd running?" \
	"$PVLOCKCTL" --socket /nonexistent.sock status
expect_error "pvlockctl: no such VM registered" "$PVLOCKCTL" unregister no-such-vm-$$
expect_error "pvlockctl: no such VM registered" "$PVLOCKCTL" attach no-such-vm-$$ /tmp/x.sock
expect_error "usage: register NAME NVCPUS(1-64) tcg|kvm" "$PVLOCKCTL" register "t-bad-$$" 0 tcg
expect_error "usage: register NAME NVCPUS(1-64) tcg|kvm" "$PVLOCKCTL" register "t-bad-$$" 4 xen
expect_error "usage: register NAME NVCPUS(1-64) tcg|kvm" "$PVLOCKCTL" register "../../etc" 4 tcg
expect_error "unknown request 'frobnicate'" "$PVLOCKCTL" frobnicate

name=t-errs-$$
out=$("$PVLOCKCTL" register "$name" 2 tcg) || fail "register failed: $out"
pin=$(cut -d' ' -f2 <<<"$out")
[ -e "$pin" ] || fail "no pin at $pin after register"
expect_error "VM '$name' is already registered" "$PVLOCKCTL" register "$name" 2 tcg
# A QMP socket with nobody behind it.
dead=$PVLI_LOGDIR/dead.sock
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$dead"
expect_error "cannot connect to QMP socket $dead: Connection refused" \
	"$PVLOCKCTL" attach "$name" "$dead"
"$PVLOCKCTL" unregister "$name" >/dev/null || fail "unregister failed"
[ ! -e "$pin" ] && [ ! -e "$(dirname "$pin")" ] || fail "unregister left $pin behind"
[ ! -e "/run/pvlockinfo/vms/$name.meta" ] || fail "unregister left its state file behind"
"$PVLOCKCTL" status | matches "$name" && fail "status still lists $name"
note "unregister removed the pin, its directory and the state file"
