#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/vcpu_oversub.sh: the main job of pvlockinfo.
#
# Today it does the whole set-up (configure, packages, patched QEMU, guest
# image), then boots an oversubscribed guest with the channel and prints
# what the guest reads from its page next to what the host sees.  The lock-policy
# sweep (throughput, latency and LHP/LWP per policy and oversubscription
# level) is built on top of this by the later issues; until then this
# script says so rather than printing figures it did not measure.

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
smp=4
host_cpus=0

usage() {
	cat <<EOF
Usage: bench/vcpu_oversub.sh [--smp N] [--host-cpus LIST] [--help]

Sets up pvlockinfo on this machine if needed (./configure installs the
Debian packages; make builds the patched QEMU, cached, and the guest
image), starts pvlockd if it is not running, boots an N-vCPU guest pinned
to LIST host CPUs with the channel, loads it with busy loops, and prints
what the guest reads from its page next to what the host sees.

  --smp N           vCPUs of the guest [$smp]
  --host-cpus LIST  host CPUs the VM is pinned to [$host_cpus]
                    (4 vCPUs on 1 CPU = 4x oversubscription)

Not yet measured here: the per-policy lock sweep; it arrives with the
lock harness and the sweep issues.
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--smp) smp=${2:?--smp needs a value}; shift ;;
	--host-cpus) host_cpus=${2:?--host-cpus needs a value}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "vcpu_oversub: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

step() { printf '\n==> %s\n' "$*"; }

cd "$src" || exit 1
step "set-up: configure (installs missing packages) and make (QEMU build is cached)"
./configure || exit 1
make -j"$(nproc)" || exit 1

step "host: pvlockd (the channel's daemon)"
ctl=build/host/pvlockctl
started=
if "$ctl" status >/dev/null 2>&1; then
	echo "using the pvlockd already running"
else
	build/host/pvlockd -l warn &
	started=$!
	for _ in $(seq 50); do "$ctl" status >/dev/null 2>&1 && break; sleep 0.1; done
	"$ctl" status >/dev/null 2>&1 || { echo "vcpu_oversub: pvlockd did not start" >&2; exit 1; }
	echo "started pvlockd (pid $started); it is stopped and its pins removed at the end"
fi
cleanup() {
	if [ -n "$started" ]; then
		kill "$started" 2>/dev/null
		wait "$started" 2>/dev/null
		build/host/pvlockd --teardown >/dev/null 2>&1
	fi
}
trap cleanup EXIT

step "guest: $smp vCPUs on host CPUs $host_cpus, 4 busy loops; the guest reads its page"
name=oversub-$$
host/pvlock-qemu --name "$name" --smp "$smp" --host-cpus "$host_cpus" --channel on --run '
echo "kernel:        $(uname -r)"
echo "vCPUs online:  $(nproc)"
modprobe pvlockinfo || exit 1
for i in $(seq $(nproc)); do (while :; do :; done) & done
sleep 3
echo; echo "the channel as the guest sees it (/sys/kernel/debug/pvlockinfo/status):"
grep -E "^(available|abi|vcpus|accel|generation|heartbeat)" /sys/kernel/debug/pvlockinfo/status | sed "s/^/  /"
echo; echo "every vCPU as the guest sees it (/sys/kernel/debug/pvlockinfo/vcpus):"
sed "s/^/  /" /sys/kernel/debug/pvlockinfo/vcpus
echo; echo "each vCPU reading its own record 1M times (must always say running):"
echo 1000000 >/sys/kernel/debug/pvlockinfo/selftest_own
sed "s/^/  /" /sys/kernel/debug/pvlockinfo/selftest_own
echo GUEST-DONE
sleep 2' | tee "${TMPDIR:-/tmp}/$name.out" &
vm=$!
for _ in $(seq 600); do grep -q GUEST-DONE "${TMPDIR:-/tmp}/$name.out" 2>/dev/null && break; sleep 0.1; done
echo; echo "the same VM as the host sees it (pvlockctl status):"
"$ctl" status | sed 's/^/  /'
wait $vm
rc=$?
rm -f "${TMPDIR:-/tmp}/$name.out"
[ $rc -eq 0 ] || { echo "vcpu_oversub: the guest run failed (status $rc)" >&2; exit $rc; }

step "not measured yet"
echo "The lock-policy sweep (native, mcs, shfl, pvspin, shfl-pv, shfl-quota at"
echo "1x/2x/4x) needs the locks and the harness; it is not run here."
