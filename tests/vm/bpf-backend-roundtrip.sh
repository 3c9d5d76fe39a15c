#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# Zero-copy round trip through memory-backend-bpf: the host writes a
# pattern into a pinned mmapable array map, the guest reads it from the
# ivshmem BAR and writes its own pattern back, the host sees it while the
# guest is still running and answers, and the guest sees the answer.
. "$(dirname "$0")/lib.sh"

mount_bpffs
pin_dir
pin=$PIN_DIR/page

# Two pages: BAR sizes are powers of two, and a second page checks that
# the mapping is not just the first page repeated.
"$BPFMAP" create "$pin" --size=8192 || fail "cannot create the map"
"$BPFMAP" fill "$pin" 11 || fail "cannot fill the map"

guest='set -e
pvli-bar find
pvli-bar check 11 0 4096
pvli-bar fill 22 4096 4096
i=0
until pvli-bar check 33 0 64 >/dev/null; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "no answer from the host"; exit 1; }
	sleep 0.1
done
echo "guest saw the host answer"'

# The host side runs while the VM does: wait for the guest's page, answer.
( "$BPFMAP" wait "$pin" 22 4096 4096 120000 && "$BPFMAP" fill "$pin" 33 0 64 ) \
	>"$PVLI_LOGDIR/host-side.log" 2>&1 &
host=$!

out=$(vm roundtrip --smp 2 --page "$pin" --run "$guest")
rc=$?
echo "$out"
wait $host || fail "host side: $(cat "$PVLI_LOGDIR/host-side.log")"
[ $rc -eq 0 ] || fail "guest side exited $rc"

grep -q '^[0-9a-f:.]* 8192$' <<<"$out" || fail "BAR2 is not 8192 bytes: $out"
grep -q 'pattern 11 ok at 0+4096' <<<"$out" || fail "guest did not read the host pattern"
grep -q 'guest saw the host answer' <<<"$out" || fail "guest did not see the answer"
"$BPFMAP" check "$pin" 22 4096 4096 || fail "guest's page is not in the map"
"$BPFMAP" check "$pin" 33 0 64 || fail "host answer was overwritten"
"$BPFMAP" check "$pin" 11 64 4032 || fail "guest clobbered the host's page"
note "host -> guest -> host -> guest through one BPF map, no copies"
