# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the VM tests; sourced, not run.
#
# The runner sets PVLI_SRC, PVLI_BUILD and PVLI_LOGDIR.  Guest consoles
# saved as $PVLI_LOGDIR/*.console are scanned by the runner for kernel
# BUG/WARNING/Oops reports.

set -u -o pipefail

: "${PVLI_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PVLI_BUILD:=$PVLI_SRC/build}"
: "${PVLI_LOGDIR:=$(mktemp -d)}"
export PVLI_BUILD

WRAPPER=$PVLI_SRC/host/pvlock-qemu
BPFMAP=$PVLI_BUILD/tests/bpfmap-pin

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "# $*"; }

# vm NAME ARGS...: run pvlock-qemu with its console kept for the runner's scan.
vm() {
	local name=$1
	shift
	"$WRAPPER" -q --name "t-$name-$$" --console-log "$PVLI_LOGDIR/$name.console" "$@"
}

expect_eq() { # what got want
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	note "$1: '$2' as expected"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (bpf(2), bpffs)"
}

# bpffs is not mounted on a fresh machine.
mount_bpffs() {
	need_root
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs on /sys/fs/bpf"
	fi
}

# A private pin directory, removed when the test exits.
pin_dir() {
	PIN_DIR=/sys/fs/bpf/pvli-test-$$
	mkdir -p "$PIN_DIR" || fail "cannot create $PIN_DIR"
	trap 'rm -rf "$PIN_DIR"' EXIT
}
