#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/vcpu_oversub.sh: the main job of pvlockinfo.
#
# Today it does the whole set-up (configure, packages, patched QEMU, guest
# image), then boots an oversubscribed guest with a host page mapped in
# through memory-backend-bpf and prints the guest's view.  The lock-policy
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
image), then boots an N-vCPU guest pinned to LIST host CPUs with a
shared page from a pinned BPF map, and prints what the guest sees.

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

step "host: a shared page (4 KiB mmapable BPF array map) pinned in bpffs"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || exit 1
pins=/sys/fs/bpf/pvli-bench-$$
mkdir -p "$pins" || exit 1
trap 'rm -rf "$pins"' EXIT
build/tests/bpfmap-pin create "$pins/page" --size=4096 || exit 1
build/tests/bpfmap-pin fill "$pins/page" 1 || exit 1
echo "pinned $pins/page and wrote pattern 1 into it"

step "guest: $smp vCPUs on host CPUs $host_cpus"
host/pvlock-qemu --name "oversub-$$" --smp "$smp" --host-cpus "$host_cpus" \
	--page "$pins/page" --run '
echo "kernel:        $(uname -r)"
echo "vCPUs online:  $(nproc)"
modprobe pvlockinfo && echo "pvlockinfo.ko: $(dmesg | grep -o "pvlockinfo: version.*" | tail -n1)"
set -- $(pvli-bar find)
echo "shared page:   ivshmem at $1, BAR2 $2 bytes"
pvli-bar check 1 0 4096 | sed "s/^/               host /"
'
rc=$?
[ $rc -eq 0 ] || { echo "vcpu_oversub: the guest run failed (status $rc)" >&2; exit $rc; }

step "not measured yet"
echo "The lock-policy sweep (native, mcs, shfl, pvspin, shfl-pv, shfl-quota at"
echo "1x/2x/4x) needs the channel, the locks and the harness; it is not run here."
