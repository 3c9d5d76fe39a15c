#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# pvlockinfo.ko refuses every page it cannot trust, with the reason in
# dmesg, and then answers "unknown"; a valid page whose host side never
# writes goes stale.  The pages are written by the test, not by pvlockd.
. "$(dirname "$0")/lib.sh"

mount_bpffs
pin_dir
pin=$PIN_DIR/page

# A refusal is logged while the driver probes (in modprobe); a stale page
# 1 s after it was accepted (checked every 100 ms): wait for either, up
# to 3 s.
guest='modprobe pvlockinfo || exit 1
for i in $(seq 30); do dmesg | grep -qE "refusing shared page|host channel lost" && break; sleep 0.1; done
dmesg | grep -o "pvlockinfo 0000:[0-9a-f:.]*: .*" | sed "s/^pvlockinfo [^ ]* //"
grep "^available" /sys/kernel/debug/pvlockinfo/status
grep -c unknown /sys/kernel/debug/pvlockinfo/vcpus'

# check NAME 'HEADER-ARGS' 'EXPECTED DMESG TEXT'
check() {
	local name=$1 hdr=$2 want=$3 out
	"$BPFMAP" rm "$pin" 2>/dev/null
	"$BPFMAP" create "$pin" --size=4096 || fail "cannot create the page"
	if [ "$hdr" = garbage ]; then
		"$BPFMAP" fill "$pin" 7 || fail "cannot fill the page"
	elif [ -n "$hdr" ]; then
		"$BPFMAP" header "$pin" $hdr || fail "cannot write the header"
	fi
	out=$(vm "$name" --smp 2 --channel off --page "$pin" --run "$guest") ||
		fail "$name: guest run failed: $out"
	grep -qF -- "$want" <<<"$out" || fail "$name: dmesg lacks '$want':
$out"
	grep -q "^available: no" <<<"$out" || fail "$name: the channel claims to be available:
$out"
	[ "$(tail -n1 <<<"$out")" = 2 ] || fail "$name: not every vCPU reads unknown:
$out"
	note "$name: $(grep -F -- "$want" <<<"$out" | head -n1)"
}

check zero-page '' 'refusing shared page: bad magic (magic 0x0, ABI 0.0'
check garbage garbage 'refusing shared page: bad magic'
check major '2 major=2' 'refusing shared page: unsupported ABI major version (magic 0x4b434f4c494c5650, ABI 2.1'
check stride '2 stride=64' 'refusing shared page: unexpected header or record size'
check vcpus '1' 'refusing shared page: bad vCPU count (magic 0x4b434f4c494c5650, ABI 1.1, header 128, stride 128, 1 vCPUs for 2 possible CPUs'
check size '2 page_size=8192' 'refusing shared page: page size does not fit the mapping'
# Valid, but nothing on the host ever writes it: accepted, then stale.
check stale '2' 'host channel lost: stale: the host heartbeat stopped'
