#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 300
#
# /dev/pvlockinfo and libpvlock with a host page the driver does not
# trust.  The pages are written by the test, not by pvlockd, and every
# record claims its vCPU is PREEMPTED: a library that read an untrusted
# page would see a preempted holder on every wait, so "holder_off_host"
# must stay 0 while waits happen.
# - stale (a valid header whose heartbeat never moves): a page is bound
#   but host_live is 0; libpvlock works at the guest level; unbinding the
#   PCI device zaps a process's mapping of the region (it reads zeros);
# - garbage (refused by the driver): nothing bound, the region reads
#   zeros; libpvlock works at the guest level.
. "$(dirname "$0")/lib.sh"

mount_bpffs
pin_dir
pin=$PIN_DIR/page
P=/usr/lib/libpvlock-preload.so

# check NAME DMESG-TEXT DEVCHECK-ARGS: boot on the page at $pin, wait for
# the driver's verdict, run libpvlock there and the device check last.
check() {
	local name=$1 verdict=$2 devcheck=$3 out j
	out=$(vm "$name" --smp 2 --channel off --page "$pin" --timeout 150 --run "
		modprobe pvlockinfo || exit 10
		for i in \$(seq 100); do dmesg | grep -q '$verdict' && break; sleep 0.1; done
		dmesg | grep -q '$verdict' || { echo 'no verdict after 10 s'; dmesg | tail -n5; exit 11; }
		grep '^available' /sys/kernel/debug/pvlockinfo/status
		LD_PRELOAD=$P pvlock-mutexbench -d 1000 -t 4
		LD_PRELOAD=$P pvlock-stress -d 4 -t 6; echo stress-rc=\$?
		pvli-devcheck $devcheck; echo devcheck-rc=\$?
	") || fail "$name: guest run failed (exit $?): $out"
	echo "$out"
	grep -q '^available: no' <<<"$out" || fail "$name: the driver trusts the page"
	grep -q '^devcheck-rc=0$' <<<"$out" || fail "$name: the device check failed"
	grep -q '^stress-rc=0$' <<<"$out" || fail "$name: the stress run failed"
	j=$(grep -h '"bench":"\(mutexbench\|stress\)"' <<<"$out") || fail "$name: no results"
	python3 - "$name" "$j" <<'PY' || fail "$name: libpvlock read an untrusted page"
import json, sys
name, lines = sys.argv[1], sys.argv[2].splitlines()
rs = {json.loads(l)["bench"]: json.loads(l) for l in lines}
mb, st = rs["mutexbench"], rs["stress"]
assert mb["pvlock_level"] == "guest", f"level {mb['pvlock_level']}, want guest"
assert mb["violations"] == 0 and mb["lost_updates"] == 0, mb
for r in (mb, st):
    # Waits happened (or the check below proves nothing), none saw the page.
    assert r["slow"] > 0, f"{r['bench']}: no slow path at all"
    assert r["holder_off_host"] == 0, f"{r['bench']}: {r['holder_off_host']} host-preempted holders"
print(f"# {name}: level guest; {mb['slow'] + st['slow']} waits, "
      f"{mb['holder_off_guest'] + st['holder_off_guest']} guest-descheduled holders, "
      "0 host-preempted")
PY
	note "$name: the device and libpvlock ignore the page"
}

"$BPFMAP" create "$pin" --size=4096 || fail "cannot create the page"
"$BPFMAP" header "$pin" 2 state=2 || fail "cannot write the page"
check stale 'host channel lost: stale' '--host=stale --unbind'

"$BPFMAP" rm "$pin"
"$BPFMAP" create "$pin" --size=4096 || fail "cannot create the page"
"$BPFMAP" fill "$pin" 7 || fail "cannot fill the page"
check garbage 'refusing shared page' '--host=none'
