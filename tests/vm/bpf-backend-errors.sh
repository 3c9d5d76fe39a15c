#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# memory-backend-bpf refuses every unusable object with its own error,
# naming the path; pvlock-qemu passes that error on.
. "$(dirname "$0")/lib.sh"

mount_bpffs
pin_dir
QEMU=$(cat "$PVLI_BUILD/qemu-path") || fail "no QEMU build"

"$BPFMAP" create "$PIN_DIR/good" --size=4096 &&
	"$BPFMAP" create "$PIN_DIR/hash" --type=hash &&
	"$BPFMAP" create "$PIN_DIR/nommap" --no-mmapable &&
	"$BPFMAP" prog "$PIN_DIR/prog" || fail "cannot create the test objects"
notpin=$PVLI_LOGDIR/not-a-pin
: >"$notpin"

# expect_refusal 'PROPS' 'MESSAGE' [launcher...]: QEMU must exit 1 with MESSAGE.
expect_refusal() {
	local props=$1 want=$2 out rc
	shift 2
	out=$("$@" "$QEMU" -machine none -nodefaults -display none -S \
		-object "memory-backend-bpf,id=m,$props" </dev/null 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "$props: QEMU exited $rc, want 1 ($out)"
	grep -qF -- "$want" <<<"$out" || fail "$props: got '$out', want '$want'"
	note "$props: $want"
}

P=$PIN_DIR
expect_refusal "pinned=$P/none,size=4096" "no BPF map is pinned at '$P/none'"
expect_refusal "pinned=$P/hash,size=4096" "the BPF map pinned at '$P/hash' has type 1; only BPF_MAP_TYPE_ARRAY (2) can be mapped"
expect_refusal "pinned=$P/nommap,size=4096" "the BPF array map pinned at '$P/nommap' is not mmapable (create it with BPF_F_MMAPABLE)"
expect_refusal "pinned=$P/good,size=8192" "the BPF map pinned at '$P/good' is too small: it maps 4096 bytes, size is 8192"
expect_refusal "pinned=$P/prog,size=4096" "'$P/prog' is not a BPF map (it is bpf-prog)"
expect_refusal "pinned=$notpin,size=4096" "'$notpin' is not a BPF pin (is bpffs mounted there?)"
expect_refusal "pinned=$P/good,size=4096,share=off" "memory-backend-bpf needs share=on"
expect_refusal "size=4096" "Parameter 'pinned' is missing"
# The pin is 0600 root: an unprivileged QEMU may not open it.
expect_refusal "pinned=$P/good,size=4096" "no permission to open the BPF map pinned at '$P/good'" \
	setpriv --reuid=65534 --regid=65534 --clear-groups

# The same check through the wrapper: exit 125 and QEMU's reason.
err=$(vm badpage --page "$P/hash" --run true 2>&1 >/dev/null)
expect_eq "pvlock-qemu exit status with a hash map as --page" "$?" 125
grep -qF "has type 1; only BPF_MAP_TYPE_ARRAY" <<<"$err" || fail "wrapper hid QEMU's reason: $err"
