#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 60
#
# memory-backend-bpf maps host state (what host BPF programs write about
# this host's threads): it blocks migration and snapshots itself, with a
# reason that names it, whatever device maps the region (here
# ivshmem-plain with master=on, which has no blocker of its own).  Its
# map-id property names the map it maps.
. "$(dirname "$0")/lib.sh"

mount_bpffs
pin_dir
QEMU=$(cat "$PVLI_BUILD/qemu-path") || fail "no QEMU build"
"$BPFMAP" create "$PIN_DIR/page" --size=4096 || fail "cannot create the test map"
sock=$PVLI_LOGDIR/qmp.sock
"$QEMU" -machine pc -nodefaults -display none -S -nic none -L /usr/share/qemu \
	-L /usr/share/seabios -qmp "unix:$sock,server=on,wait=off" \
	-object "memory-backend-bpf,id=pg,pinned=$PIN_DIR/page,size=4096" \
	-device ivshmem-plain,memdev=pg,master=on >"$PVLI_LOGDIR/qemu.log" 2>&1 &
qemu=$!
at_exit 'kill $qemu 2>/dev/null; wait $qemu 2>/dev/null'
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "QEMU did not start: $(cat "$PVLI_LOGDIR/qemu.log")"
QMP=$PVLI_SRC/host/pvli-qmp

out=$("$QMP" "$sock" '{"execute":"migrate","arguments":{"uri":"exec:cat >/dev/null"}}' 2>&1) &&
	fail "migration started: $out"
grep -q "memory-backend-bpf 'pg' maps the BPF map pinned at '$PIN_DIR/page'" <<<"$out" ||
	fail "migration refused without the backend's reason: $out"
note "migrate: $out"
out=$("$QMP" "$sock" '{"execute":"human-monitor-command","arguments":{"command-line":"savevm snap1"}}' 2>&1)
grep -q "memory-backend-bpf 'pg'" <<<"$out" || fail "savevm not refused for the backend: $out"
note "savevm: $out"
want=$(bpftool -j map show pinned "$PIN_DIR/page" | jq .id)
got=$("$QMP" "$sock" '{"execute":"qom-get","arguments":{"path":"/objects/pg","property":"map-id"}}' 2>&1)
expect_eq "map-id of the backend" "$got" "$want"

