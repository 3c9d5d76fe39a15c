#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 180
#
# A TCG guest keeps the TSC as its clocksource, at the host TSC's rate.
#
# Under TCG the guest's RDTSC is the host's TSC, but the guest calibrates
# its rate against emulated timers.  On a loaded host that calibration was
# seen 0.84% off; the clocksource watchdog then marked the TSC unstable
# about 5 s after boot and moved the guest to HPET (every clock read an
# emulated MMIO under QEMU's global lock, and a stop_machine() that froze
# every vCPU until a vCPU holding a lock let go: lhp-ground-truth lost its
# whole watch window to it).  pvlock-qemu passes the host's rate and
# tsc=reliable (--tsc-hint); this test checks both halves:
#
#  1. a guest booted with a wrong rate and the hint off gets its TSC
#     marked unstable (the failure, reproduced on any host: the control).
#     The rate is 1.5% off, not 0.84%: the kernel's refinement against
#     HPET (about 2 s after boot) corrects errors up to 1% when it is not
#     disturbed, as on a quiet host it is not, and the watchdog must win
#     the race here every time;
#  2. with the hint on, the same wrong rate from --append (which comes
#     later on the command line and wins) no longer costs the TSC, and
#  3. a default guest runs on tsc at the host's rate to within 500 ppm
#     (the kernel's own tolerance for a known TSC rate).
. "$(dirname "$0")/lib.sh"

. "$PVLI_SRC/host/kvm-usable.sh"
kvm_probe
[ "$kvm_usable" = no ] || [ "$(sed -n 's/^PVLI_ACCEL_DEFAULT=//p' "$PVLI_BUILD/vm.env")" = tcg ] ||
	skip "guests run under KVM here (kvm-clock, not the host TSC)"
khz=$("$PVLI_BUILD/host/pvli-host-tsc" 2>&1) || skip "no TSC hint on this host: ${khz#pvli-host-tsc: }"
wrong=$((khz + khz * 150 / 10000))
note "host TSC $khz kHz; the wrong rate is $wrong kHz (+1.5%)"

# The guest waits out several watchdog rounds (every 0.5 s) after boot.
guest='sleep 8
echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -E "tsc: (Marking|Refined|Detected)|clocksource: Switched" | sed "s/^\[[^]]*\] //"'

out=$(vm control --tsc-hint off --append "tsc_early_khz=$wrong" --run "$guest") ||
	fail "the control guest failed ($?): $out"
echo "$out" | sed 's/^/  control: /'
grep -q '^tsc: Marking TSC unstable' <<<"$out" ||
	fail "with a rate 1.5% off and no hint the guest kept its TSC: the control did not reproduce the failure"
note "control: a guest whose rate is off loses its TSC without the hint, as on the failing host"

out=$(vm wrong --append "tsc_early_khz=$wrong" --run "$guest") || fail "the guest failed ($?): $out"
echo "$out" | sed 's/^/  hint, wrong rate: /'
! grep -q 'Marking TSC unstable' <<<"$out" || fail "with the hint the guest still lost its TSC"
expect_eq "clocksource with the hint and a wrong rate" "$(sed -n 's/^clocksource //p' <<<"$out")" tsc

out=$(vm default --run "$guest") || fail "the guest failed ($?): $out"
echo "$out" | sed 's/^/  default: /'
expect_eq "clocksource of a default guest" "$(sed -n 's/^clocksource //p' <<<"$out")" tsc
mhz=$(sed -n 's/^tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz/\1/p' <<<"$out")
[ -n "$mhz" ] || mhz=$(sed -n 's/^tsc: Detected \([0-9.]*\) MHz TSC/\1/p' <<<"$out" | tail -n1)
[ -n "$mhz" ] || fail "the guest did not say its TSC rate"
ppm=$(awk -v g="$mhz" -v h="$khz" 'BEGIN { d = g * 1000 - h; if (d < 0) d = -d; printf "%d", d * 1e6 / h }')
[ "$ppm" -le 500 ] || fail "the guest's TSC rate $mhz MHz is $ppm ppm off the host's $khz kHz"
note "the guest's TSC rate $mhz MHz is $ppm ppm from the host's"
