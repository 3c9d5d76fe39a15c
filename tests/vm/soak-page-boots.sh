#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: long
# timeout: 1800
#
# Boot a 4-vCPU guest with a BPF-map page BOOTS times (default 150),
# loading the driver each time, with core dumps kept in the test's log
# directory.  It found the multi-threaded TCG race fixed by
# qemu-patches/0003 (about one crash in 50 boots before the fix, while
# the guest sized the ivshmem BARs).
. "$(dirname "$0")/lib.sh"

mount_bpffs
pin_dir
pin=$PIN_DIR/page
boots=${BOOTS:-150}
ulimit -c unlimited
old_pattern=$(cat /proc/sys/kernel/core_pattern)
echo "$PVLI_LOGDIR/core.%e.%p" >/proc/sys/kernel/core_pattern
at_exit 'echo "$old_pattern" >/proc/sys/kernel/core_pattern'

crashes=0
for i in $(seq "$boots"); do
	"$BPFMAP" rm "$pin" 2>/dev/null
	"$BPFMAP" create "$pin" --size=4096 && "$BPFMAP" header "$pin" 4 || fail "cannot make the page"
	if ! out=$("$WRAPPER" -q --name "t-soak-$$" --smp 4 --channel off --page "$pin" \
		--run 'modprobe pvlockinfo' 2>&1); then
		crashes=$((crashes + 1))
		echo "boot $i failed: $out" | head -n 3
	fi
done
note "$boots boots, $crashes failed"
[ $crashes -eq 0 ] || fail "$crashes of $boots boots failed; cores in $PVLI_LOGDIR"
