#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 60
#
# The man pages of the host commands render with `man -l` without a
# warning from groff (-ww: every warning), have the sections an operator
# looks for, and name every option their command's --help lists.
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null && command -v groff >/dev/null ||
	skip "man or groff is missing (Debian's man-db and groff-base)"
pages=(pvlockd.8 pvlockctl.8 pvlockstat.8 pvlock-qemu.1)
for p in "${pages[@]}"; do
	f=$PVLI_SRC/host/man/$p
	[ -r "$f" ] || fail "host/man/$p is missing"
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$f" 2>&1 >"$PVLI_LOGDIR/$p.txt")
	[ -z "$warn" ] || fail "man -l host/man/$p warns: $warn"
	[ -s "$PVLI_LOGDIR/$p.txt" ] || fail "man -l host/man/$p rendered nothing"
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
		grep -q "^$s\$" "$PVLI_LOGDIR/$p.txt" || fail "$p has no $s section"
	done
	cmd=${p%.*}
	case $cmd in
	pvlock-qemu) help=$("$PVLI_SRC/host/pvlock-qemu" --help) ;;
	*) help=$("$PVLI_BUILD/host/$cmd" --help) ;;
	esac
	# Every long option of --help but argp's own.
	for o in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
		case $o in --help|--usage|--version) continue ;; esac
		grep -q -- "$o" "$PVLI_LOGDIR/$p.txt" || fail "$p does not describe $o"
	done
	note "$p: renders clean, documents every option of $cmd --help"
done
