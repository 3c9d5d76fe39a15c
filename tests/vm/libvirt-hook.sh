#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# The libvirt QEMU hook (host/libvirt/pvlockinfo-hook), driven the way
# libvirtd drives it, without libvirtd: this test plays libvirt.  libvirt
# runs each executable of /etc/libvirt/hooks/qemu.d as
#   HOOK DOMAIN OPERATION SUB-OPERATION EXTRA   (EXTRA is "-" here)
# with the full domain XML on stdin, waits for it, and refuses the
# operation when it exits non-zero ("prepare begin", "start begin",
# "started begin", "stopped end", "release end", "migrate begin"); between
# "start" and "started" it launches QEMU with the domain's
# <qemu:commandline> appended, which pvlock-qemu does here with the same
# arguments (--page for the page, and pvlockd's monitor after --).
#
# A domain built from the README's example and `pvlockctl libvirt-xml`:
#  - prepare registers it: the page is pinned before QEMU opens it;
#  - started attaches pvlockd: pvlockctl status names the domain with its
#    vCPU threads; the guest's pvlockinfo.ko binds the page and sees its
#    2 vCPUs preempted on one host CPU;
#  - stopped/release leave no registration, no pin, no socket directory
#    (nor /run/pvlockinfo/libvirt, which held only this domain's);
#  - a domain without the opt-in is left alone, one that opts in with an
#    incomplete <qemu:commandline> and a migration are refused.
. "$(dirname "$0")/lib.sh"

HOOK=$PVLI_SRC/host/libvirt/pvlockinfo-hook
start_pvlockd
# Uninstalled, the hook runs the pvlockctl on PATH.
export PATH=$PVLI_BUILD/host:$PATH
name=t-virt-$$
xml=$PVLI_LOGDIR/domain.xml
pin=/sys/fs/bpf/pvlockinfo/vms/$name/page
sockdir=/run/pvlockinfo/libvirt/$name
# The hook removes its directory with the last domain's (no other runs here).
run_dir_was=$([ -d "$(dirname "$sockdir")" ] && echo yes)

# hook OP SUBOP [XML]: as libvirtd runs it; its stderr in $PVLI_LOGDIR/hook.err.
hook() {
	"$HOOK" "$name" "$1" "$2" - <"${3:-$xml}" 2>"$PVLI_LOGDIR/hook.err"
}

# The README's domain, renamed, with the commandline pvlockctl prints for it.
"$PVLOCKCTL" libvirt-xml "$name" 2 >"$PVLI_LOGDIR/snippet.xml" || fail "pvlockctl libvirt-xml failed"
python3 "$PVLI_SRC/tests/helpers/libvirt-domain.py" "$PVLI_SRC/host/libvirt/example-domain.xml" \
	"$PVLI_LOGDIR/snippet.xml" "$name" 2 >"$xml" || fail "cannot build the domain XML"

# ---- refusals and domains left alone ----
sed '/pvlock:channel/d' "$xml" >"$PVLI_LOGDIR/plain.xml"
hook prepare begin "$PVLI_LOGDIR/plain.xml" || fail "the hook refused a domain that did not opt in: $(cat "$PVLI_LOGDIR/hook.err")"
vm_registered "$name" && fail "the hook registered a domain that did not opt in"
grep -v "ivshmem-plain" "$xml" >"$PVLI_LOGDIR/partial.xml"
hook prepare begin "$PVLI_LOGDIR/partial.xml" && fail "the hook accepted a domain without the ivshmem device"
grep -q 'lacks -device ivshmem-plain,memdev=pvlipage' "$PVLI_LOGDIR/hook.err" ||
	fail "the refusal does not say what is missing: $(cat "$PVLI_LOGDIR/hook.err")"
vm_registered "$name" && fail "a refused domain is registered"
note "incomplete: refused with: $(cat "$PVLI_LOGDIR/hook.err")"
hook migrate begin && fail "the hook let an opted-in domain migrate"
note "not opted in: left alone; migrate: refused with: $(cat "$PVLI_LOGDIR/hook.err")"

# ---- the life of an opted-in domain ----
hook prepare begin || fail "prepare failed: $(cat "$PVLI_LOGDIR/hook.err")"
at_exit '"$HOOK" "$name" release end - <"$xml" 2>/dev/null'
vm_registered "$name" || fail "prepare did not register $name"
[ -e "$pin" ] || fail "prepare left no page pinned at $pin"
[ -d "$sockdir" ] || fail "prepare did not create $sockdir"
hook start begin || fail "start begin failed: $(cat "$PVLI_LOGDIR/hook.err")"

out=$PVLI_LOGDIR/guest.out
mapfile -t mon < <(python3 -c '
import sys, xml.etree.ElementTree as ET
Q = "{http://libvirt.org/schemas/domain/qemu/1.0}"
a = [x.get("value") for x in ET.parse(sys.argv[1]).getroot().iter(Q + "arg")]
for o, v in zip(a, a[1:]):
    if o == "-chardev" or (o == "-mon" and "pvlockd-qmp" in v):
        print(o); print(v)' "$xml")
[ ${#mon[@]} -eq 4 ] || fail "no pvlockd monitor in the domain's commandline: ${mon[*]}"
"$WRAPPER" -q --name "$name" --smp 2 --host-cpus 0 --channel off --page "$pin" \
	--console-log "$PVLI_LOGDIR/guest.console" --run '
modprobe pvlockinfo || exit 1
for i in 1 2; do (while :; do :; done) & done
i=0
while [ $i -lt 40 ]; do
	if grep -q "^available: yes" /sys/kernel/debug/pvlockinfo/status; then
		echo STATUS; cat /sys/kernel/debug/pvlockinfo/status /sys/kernel/debug/pvlockinfo/vcpus
	fi
	echo TICK
	sleep 1
	i=$((i + 1))
done' -- "${mon[@]}" >"$out" 2>&1 &
vm_pid=$!
at_exit 'kill $vm_pid 2>/dev/null; wait $vm_pid 2>/dev/null'
for _ in $(seq 300); do [ -S "$sockdir/pvlockd-qmp.sock" ] && break; sleep 0.1; done
[ -S "$sockdir/pvlockd-qmp.sock" ] || fail "QEMU did not open pvlockd's monitor in $sockdir: $(cat "$out")"
hook started begin || fail "started failed: $(cat "$PVLI_LOGDIR/hook.err")"
status=$("$PVLOCKCTL" status --json)
echo "$status" >"$PVLI_LOGDIR/status.json"
tids=$(jq -r --arg n "$name" '.vms[] | select(.name == $n) | .vcpus[].tid' <<<"$status")
expect_eq "vCPU threads pvlockd learned for $name" "$(wc -w <<<"$tids")" 2
"$PVLOCKCTL" status | matches "$name" || fail "pvlockctl status does not name $name"

wait_for "$out" '^STATUS' 150 || fail "the guest never saw its page live: $(cat "$out")"
# Two vCPUs busy on one host CPU: each one's record counts preemptions.
for _ in $(seq 100); do
	pre=$(guest_preempts "$out" 2) && break
	sleep 0.5
done
grep -q '^vcpus: 2' "$out" || fail "the guest does not see a 2-vCPU page: $(cat "$out")"
guest_preempts "$out" 2 >/dev/null ||
	fail "the guest saw no preemption of both vCPUs (preempts: $pre): $(tail -20 "$out")"
note "guest: page live, vCPU preemptions seen in the page: $pre"

# ---- the domain stops: QEMU exits, libvirt runs stopped, then release ----
kill $vm_pid 2>/dev/null
wait $vm_pid 2>/dev/null
hook stopped end || fail "stopped failed: $(cat "$PVLI_LOGDIR/hook.err")"
hook release end || fail "release failed: $(cat "$PVLI_LOGDIR/hook.err")"
vm_left_nothing "$name" "$pin" "$tids"
[ ! -e "$sockdir" ] || fail "$sockdir is left behind"
if [ -z "$run_dir_was" ]; then
	[ ! -e "$(dirname "$sockdir")" ] || fail "release left $(dirname "$sockdir") behind"
fi
note "stopped/release: no registration, pin, socket directory${run_dir_was:-, hook directory} or thread left"
