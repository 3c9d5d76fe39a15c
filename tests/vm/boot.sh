#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# pvlock-qemu boots a 4-vCPU guest, returns the command's output and exit
# status exactly, and leaves no QEMU process or run directory behind.
. "$(dirname "$0")/lib.sh"

# One boot: the vCPU count, blank lines, a missing final newline and
# stderr come through as sent, and the exit status is the command's.
out=$(vm nproc --smp 4 --run 'nproc; printf "a\n\nb\n"; echo err >&2; printf tail; exit 3')
rc=$?
expect_eq "exit status of the command (exit 3)" "$rc" 3
expect_eq "output (nproc in a 4-vCPU guest, then as sent)" "$out" "$(printf '4\na\n\nb\nerr\ntail')"

rundir=/run/pvlockinfo/qemu/t-nproc-$$
[ ! -e "$rundir" ] || fail "$rundir left behind"
if pgrep -f "name t-[a-z0-9]*-$$," >/dev/null; then
	fail "QEMU processes left behind: $(pgrep -af "name t-[a-z0-9]*-$$,")"
fi
note "no QEMU process or run directory left behind"
