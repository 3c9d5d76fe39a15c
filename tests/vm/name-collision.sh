#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 90
#
# A VM name is a VM name: pvlock-qemu's run directories and pvlockd's own
# state live apart, so no --name (vms, pvlockd.sock, pvlockd.lock) can
# remove or block pvlockd's state; and pvlock-qemu and pvlockd accept
# exactly the same names (one rule, in one place).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"
fake_vm keep 2
cp "$META_DIR/keep.meta" "$PVLI_LOGDIR/keep.meta.before" || fail "no state file for keep"

# QEMU is /bin/true: pvlock-qemu does everything but boot.
for n in vms pvlockd.sock pvlockd.lock; do
	out=$("$WRAPPER" -q --name "$n" --channel off --qemu /bin/true --run true 2>&1)
	note "--name $n: exit $?: $(head -n1 <<<"$out")"
	grep -q "cannot create" <<<"$out" && fail "--name $n collides with pvlockd's state: $out"
	# A VM that never booted has no console: that is said once, not
	# as a shell error about a missing console.log.
	grep -q "No such file" <<<"$out" && fail "--name $n: a stray error: $out"
	cmp -s "$META_DIR/keep.meta" "$PVLI_LOGDIR/keep.meta.before" ||
		fail "--name $n removed or changed pvlockd's state for VM keep"
	"$PVLOCKCTL" status >/dev/null || fail "pvlockd stopped answering after --name $n"
done
kill9_pvlockd
own_pvlockd || fail "pvlockd did not restart"
attached keep || fail "keep was not re-adopted after the runs named like pvlockd's state"
xcheck --strict keep
note "pvlockd's state survived VMs named vms, pvlockd.sock, pvlockd.lock"

# The same names pass or fail in pvlock-qemu and in pvlockd.
long=$(printf 'n%.0s' $(seq 65))
for n in ok-1 A.b_c -lead _lead .dot a/b a,b 'a b' "" "$long" "${long:1}"; do
	"$PVLOCKCTL" register -- "$n" 1 tcg >/dev/null 2>&1 && d=yes || d=no
	[ $d = yes ] && "$PVLOCKCTL" unregister -- "$n" >/dev/null
	out=$("$WRAPPER" -q --name "$n" --channel off --qemu /bin/true --run true 2>&1)
	[ $? = 2 ] && grep -q -- "--name" <<<"$out" && w=no || w=yes
	[ $d = $w ] || fail "name '$n': pvlockd accepts: $d, pvlock-qemu accepts: $w"
done
note "pvlock-qemu and pvlockd agree on 11 names"
