#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# pvlock-qemu boots a 4-vCPU guest, returns the command's output and exit
# status exactly, and leaves no QEMU process or run directory behind.
. "$(dirname "$0")/lib.sh"

out=$(vm nproc --smp 4 --run nproc) || fail "--run nproc exited $?"
expect_eq "nproc in a 4-vCPU guest" "$out" 4

vm exit3 --run 'exit 3'
expect_eq "exit status of 'exit 3'" "$?" 3

# Blank lines, a missing final newline and stderr all come through as sent.
out=$(vm output --run 'printf "a\n\nb\n"; echo err >&2; printf tail')
expect_eq "output" "$out" "$(printf 'a\n\nb\nerr\ntail')"

rundir=/run/pvlockinfo/qemu/t-nproc-$$
[ ! -e "$rundir" ] || fail "$rundir left behind"
if pgrep -f "name t-[a-z0-9]*-$$," >/dev/null; then
	fail "QEMU processes left behind: $(pgrep -af "name t-[a-z0-9]*-$$,")"
fi
note "no QEMU process or run directory left behind"
