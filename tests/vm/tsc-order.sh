#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 150
#
# The guest's TSC never goes back from one vCPU to another, with 8 vCPUs
# on 2 host CPUs (vCPU threads preempted by the host at any instruction).
# Under TCG every guest RDTSC is QEMU's cpu_get_ticks(), which
# qemu-patches/0007 runs without vm_clock_lock: a compare-and-swap keeps
# the largest value returned so far, and only a host counter that went
# backwards moves the offset.  Here every vCPU reads the TSC a million
# times, each read ordered after a load of the largest reading any vCPU
# has published (pvlockinfo_test's tsc_order), and no reading may be
# below it.  Under KVM (no TCG) it checks the host's TSC sync instead.
. "$(dirname "$0")/lib.sh"

READS=1000000
out=$(vm tsc-order --smp 8 --host-cpus 0-1 --timeout 120 --run "
modprobe pvlockinfo_test || exit 10
echo $READS >/sys/kernel/debug/pvlockinfo/tsc_order || exit 11
cat /sys/kernel/debug/pvlockinfo/tsc_order") || fail "guest run failed (exit $?): $out"
echo "$out"

rows=$(echo "$out" | awk '$1 ~ /^[0-9]+$/' | wc -l)
expect_eq "vCPUs that read the TSC" "$rows" 8
bad=$(echo "$out" | awk -v n=$READS '$1 ~ /^[0-9]+$/ && ($2 != n || $3 != 0)')
[ -z "$bad" ] || fail "a vCPU read a TSC value below one another vCPU had already read (cpu reads violations worst_cyc): $bad"
note "8 vCPUs x $READS reads on 2 host CPUs: no reading below one published before it"
