#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# pvlockinfo under a real libvirtd (Debian's libvirt-daemon-system): the
# README's domain (host/libvirt/example-domain.xml with the commandline of
# `pvlockctl libvirt-xml`), defined and started with virsh, TCG, the
# project's kernel and initramfs, the patched QEMU as <emulator>, and the
# hook (host/libvirt/pvlockinfo-hook) in libvirtd's qemu.d:
#  - domain a (2 vCPUs on host CPU 0) starts with no other step: pvlockctl
#    status names it with its vCPU threads, and its guest's pvlockinfo.ko
#    binds the page and sees both vCPUs preempted;
#  - domain b (3 vCPUs on host CPU 1) starts next to it with a page of its
#    own: another pin, other threads, and a 3-vCPU page in its guest while
#    a's guest still reads its 2-vCPU one;
#  - `virsh destroy a` leaves no pin, registration, QEMU process or thread
#    of a behind, and b's channel stays live; after b is destroyed too, no
#    hook directory is left in /run/pvlockinfo.
#
# The libvirtd is the test's own, so a system one is never touched: it
# runs in a mount namespace of its own, where the test's directories stand
# in for /etc/libvirt (libvirtd.conf, qemu.conf, hooks), /run/libvirt,
# /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt, and listens on
# a socket in a private directory.  Its qemu.conf is the README's
# (security_driver = "none") plus what keeps a test from leaving traces:
# no cgroups, QEMU's output to a file instead of virtlogd.
. "$(dirname "$0")/lib.sh"

need_root
for cmd in libvirtd virsh unshare; do
	command -v $cmd >/dev/null ||
		skip "$cmd is missing (libvirt-daemon-system, libvirt-clients: ./configure installs them)"
done
. "$PVLI_BUILD/vm.env"
start_pvlockd

# ---- a private libvirtd --------------------------------------------------------
# Short: libvirtd's sockets live under it (108 bytes at most).
priv=$(mktemp -d /tmp/pvli-virt.XXXXXX) || fail "cannot create a private directory"
at_exit 'rm -rf "$priv"'
mkdir -p "$priv"/{etc/hooks/qemu.d,run,lib,cache,log,sock}
cat >"$priv/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$priv/sock"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$PVLI_LOGDIR/libvirtd.log"
EOF
cat >"$priv/etc/qemu.conf" <<EOF
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
EOF
# The hook as make install puts it, naming this build's pvlockctl.
sed "s|@SBINDIR@|$PVLI_BUILD/host|" "$PVLI_SRC/host/libvirt/pvlockinfo-hook" \
	>"$priv/etc/hooks/qemu.d/pvlockinfo"
chmod 0755 "$priv/etc/hooks/qemu.d/pvlockinfo"

# A bind mount needs its mount point; a system libvirtd creates
# /run/libvirt when it starts, the test removes it if it made it.
if [ ! -d /run/libvirt ]; then
	mkdir /run/libvirt || fail "cannot create /run/libvirt"
	at_exit 'rmdir /run/libvirt 2>/dev/null'
fi
unshare --mount --propagation private -- /bin/sh -c '
	p=$1
	mount --bind "$p/etc" /etc/libvirt &&
	mount --bind "$p/run" /run/libvirt &&
	mount --bind "$p/lib" /var/lib/libvirt &&
	mount --bind "$p/cache" /var/cache/libvirt &&
	mount --bind "$p/log" /var/log/libvirt || exit 1
	exec libvirtd --pid-file "$p/libvirtd.pid"' libvirtd "$priv" \
	>"$PVLI_LOGDIR/libvirtd.out" 2>&1 &
libvirtd_pid=$!
at_exit 'kill $libvirtd_pid 2>/dev/null; wait $libvirtd_pid 2>/dev/null'
export LIBVIRT_DEFAULT_URI="qemu:///system?socket=$priv/sock/libvirt-sock"
for _ in $(seq 100); do virsh -q version >/dev/null 2>&1 && break; sleep 0.1; done
virsh -q version >/dev/null 2>&1 ||
	fail "the test's libvirtd did not come up: $(cat "$PVLI_LOGDIR/libvirtd.out" "$PVLI_LOGDIR/libvirtd.log" 2>/dev/null | tail -20)"
note "libvirtd $(libvirtd --version | awk '{ print $NF }') up (pid $libvirtd_pid), its own /etc/libvirt"

# ---- the domains -------------------------------------------------------------
# Each guest keeps 2 or 3 vCPUs busy and prints its channel's status and
# its vCPU records every second (a line printed once can sit in the
# guest's UART: README, known problems) until it is destroyed.
# The guest's command line is pvlock-qemu's, as the README tells an
# operator to give a domain (the TSC hint, lpj=, no crypto self-tests);
# the example's <cmdline> is its fixed part.
cmdline=$("$WRAPPER" -q --print-cmdline) || fail "pvlock-qemu --print-cmdline failed"
expect_eq "the example domain's <cmdline>: pvlock-qemu's fixed part" \
	"$(python3 -c 'import sys, xml.etree.ElementTree as ET; print(ET.parse(sys.argv[1]).find("os/cmdline").text)' \
		"$PVLI_SRC/host/libvirt/example-domain.xml")" \
	"$("$WRAPPER" -q --print-cmdline --tsc-hint off)"
a=t-virta-$$
b=t-virtb-$$
domains=()
declare -A tids pin qemu_pid
# start_domain NAME NVCPUS CPU: define a domain as the README says, with
# NVCPUS vCPUs pinned to host CPU CPU and an initramfs that runs the
# guest's script (as pvlock-qemu --run ships one), and start it with
# virsh.  Then pvlockctl status names it, with NVCPUS threads on CPU
# (tids[NAME]) and a pinned page (pin[NAME]).
start_domain() {
	local name=$1 n=$2 x=$priv/$1-initrd status
	mkdir -p "$x/pvli"
	cat >"$x/pvli/run.sh" <<EOF
modprobe pvlockinfo || exit 1
for i in \$(seq $n); do (while :; do :; done) & done
while :; do
	if grep -q "^available: yes" /sys/kernel/debug/pvlockinfo/status; then
		echo STATUS; cat /sys/kernel/debug/pvlockinfo/status /sys/kernel/debug/pvlockinfo/vcpus
	fi
	echo TICK
	sleep 1
done
EOF
	echo "PVLI_MARKER=PVLI-EXIT-$name" >"$x/pvli/marker"
	(cd "$x" && find pvli | cpio --quiet -o -H newc -R 0:0) >"$x.cpio" || fail "cpio failed"
	# The kernel unpacks an appended archive at a 4-byte aligned offset.
	{ cat "$PVLI_INITRAMFS"; head -c $(((4 - $(stat -c %s "$PVLI_INITRAMFS") % 4) % 4)) /dev/zero
		cat "$x.cpio"; } >"$x.img"
	"$PVLOCKCTL" libvirt-xml "$name" "$n" >"$PVLI_LOGDIR/$name.snippet" ||
		fail "pvlockctl libvirt-xml $name $n failed"
	python3 "$PVLI_SRC/tests/helpers/libvirt-domain.py" \
		"$PVLI_SRC/host/libvirt/example-domain.xml" "$PVLI_LOGDIR/$name.snippet" "$name" "$n" \
		--cpuset "$3" --emulator "$PVLI_QEMU" --kernel "$PVLI_KERNEL" --initrd "$x.img" \
		--cmdline "$cmdline" \
		--serial "$PVLI_LOGDIR/$name.console" --serial "$PVLI_LOGDIR/$name.out" \
		>"$PVLI_LOGDIR/$name.xml" || fail "cannot build domain $name's XML"
	virsh -q define "$PVLI_LOGDIR/$name.xml" >/dev/null || fail "virsh define $name failed"
	domains+=("$name")
	virsh -q start "$name" >"$PVLI_LOGDIR/$name.start" 2>&1 ||
		fail "virsh start $name failed: $(cat "$PVLI_LOGDIR/$name.start")"

	status=$("$PVLOCKCTL" status --json)
	echo "$status" >"$PVLI_LOGDIR/$name.status.json"
	tids[$name]=$(jq -r --arg n "$name" '.vms[] | select(.name == $n) | .vcpus[].tid' <<<"$status")
	pin[$name]=$(jq -r --arg n "$name" '.vms[] | select(.name == $n) | .pin' <<<"$status")
	expect_eq "vCPU threads pvlockd learned for $name" "$(wc -w <<<"${tids[$name]}")" "$n"
	on_cpu "$name" "$3" "${tids[$name]}"
	"$PVLOCKCTL" status | matches "$name" || fail "pvlockctl status does not name $name"
	[ -e "${pin[$name]}" ] || fail "no page pinned for $name at '${pin[$name]}'"
	qemu_pid[$name]=$(cat "$priv/run/qemu/$name.pid") || fail "libvirt wrote no pid file for $name"
}
# Whatever happens, no domain outlives the test: libvirtd leaves QEMU
# running when it stops.
destroy_all() {
	local d p
	for d in "${domains[@]}"; do
		virsh -q destroy "$d" >/dev/null 2>&1
		virsh -q undefine "$d" >/dev/null 2>&1
		p=$(cat "$priv/run/qemu/$d.pid" 2>/dev/null) && kill -KILL "$p" 2>/dev/null
		cp "$priv/log/qemu/$d.log" "$PVLI_LOGDIR/$d.qemu.log" 2>/dev/null
	done
	return 0
}
at_exit destroy_all

# guest_sees NAME NVCPUS: NAME's guest has printed a live NVCPUS-vCPU page
# in which every vCPU counts preemptions (the page within 150 s of boot,
# the preemptions within 60 s more).
guest_sees() {
	local out=$PVLI_LOGDIR/$1.out pre
	wait_for "$out" '^STATUS' 150 || fail "guest $1 never saw its page live: $(tail -20 "$out")"
	for _ in $(seq 120); do
		pre=$(guest_preempts "$out" "$2") && break
		sleep 0.5
	done
	tr -d '\r' <"$out" | grep '^vcpus:' | tail -n1 | matches -x "vcpus: $2" ||
		fail "guest $1 does not see a $2-vCPU page: $(tr -d '\r' <"$out" | grep '^vcpus:' | tail -n1)"
	guest_preempts "$out" "$2" >/dev/null ||
		fail "guest $1 saw no preemption of all its vCPUs (preempts: $pre): $(tail -20 "$out")"
	note "guest $1: its $2-vCPU page live, preemptions per vCPU: $pre"
}
# on_cpu NAME CPU TIDS: libvirt pinned every vCPU thread to host CPU CPU.
on_cpu() {
	local t cpus
	for t in $3; do
		cpus=$(taskset -pc "$t" 2>/dev/null | sed 's/.*: *//')
		[ "$cpus" = "$2" ] || fail "$1's vCPU thread $t may run on host CPUs '$cpus', not $2 (<vcpu cpuset>)"
	done
}
run_dir=/run/pvlockinfo/libvirt
run_dir_was=$([ -d $run_dir ] && echo yes)

# ---- a: started by virsh, seen by pvlockd and by its guest ----
start_domain "$a" 2 0
guest_sees "$a" 2

# ---- b: next to a, with its own page ----
start_domain "$b" 3 1
[ "${pin[$b]}" != "${pin[$a]}" ] || fail "$a and $b share the page pinned at ${pin[$a]}"
[ -z "$(comm -12 <(sort <<<"${tids[$a]}") <(sort <<<"${tids[$b]}"))" ] ||
	fail "$a and $b share vCPU threads: ${tids[$a]} / ${tids[$b]}"
guest_sees "$b" 3
# a's guest still reads its own page, which goes on counting.
# Polled (up to 30 s), not one look after a fixed sleep: a's guest prints
# a table a second, through a UART that can hold lines on a busy host.
before=$(guest_preempts "$PVLI_LOGDIR/$a.out" 2)
for _ in $(seq 60); do
	after=$(guest_preempts "$PVLI_LOGDIR/$a.out" 2)
	[ "$after" != "$before" ] && break
	sleep 0.5
done
guest_sees "$a" 2
[ "$after" != "$before" ] || fail "guest $a's page stopped counting once $b started ($before, 30 s)"
note "two domains, two pins, two pages: ${pin[$a]}, ${pin[$b]}"

# ---- virsh destroy: nothing of a is left, b carries on ----
# destroy NAME: virsh destroy, after which nothing of NAME is left (libvirt
# runs the hook's stopped and release before it answers; pvlockd may still
# be dropping the VM for a moment after QEMU hung up).
destroy() {
	virsh -q destroy "$1" >/dev/null || fail "virsh destroy $1 failed"
	for _ in $(seq 50); do vm_registered "$1" || [ -e "${pin[$1]}" ] || break; sleep 0.1; done
	vm_left_nothing "$1" "${pin[$1]}" "${tids[$1]}"
	[ ! -e "/proc/${qemu_pid[$1]}" ] || fail "$1's QEMU (pid ${qemu_pid[$1]}) still runs"
	[ ! -e "$run_dir/$1" ] || fail "$run_dir/$1 is left behind"
	note "virsh destroy $1: no registration, pin, QEMU process, thread or socket directory left"
}
destroy "$a"
lines=$(wc -l <"$PVLI_LOGDIR/$b.out")
vm_registered "$b" && [ -e "${pin[$b]}" ] || fail "destroying $a took $b's registration or pin"
for _ in $(seq 150); do	# up to 30 s
	[ "$(tail -n +$((lines + 1)) "$PVLI_LOGDIR/$b.out" | tr -d '\r' | grep -c '^available: yes')" -ge 2 ] && break
	sleep 0.2
done
[ "$(tail -n +$((lines + 1)) "$PVLI_LOGDIR/$b.out" | tr -d '\r' | grep -c '^available: yes')" -ge 2 ] ||
	fail "guest $b lost its channel when $a was destroyed: $(tail -20 "$PVLI_LOGDIR/$b.out")"
note "$b's channel stayed live"

destroy "$b"
if [ -z "$run_dir_was" ]; then
	[ ! -e "$run_dir" ] || fail "the hook left $run_dir behind after the last domain stopped"
	note "no $run_dir left after the last domain"
fi
