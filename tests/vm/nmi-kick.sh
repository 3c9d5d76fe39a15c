#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# A halt with interrupts off (the takeover's waiters whose caller turned
# them off; guest/lock/shim_kernel_nmi.c) is ended by an NMI kick, and a
# kick that lands between the halt's check and its hlt must keep the hlt
# from happening: the NMI handler makes the code resume past it.  On
# x86-64 the frame iretq returns through is the nested-NMI code's "iret"
# copy, not the pt_regs the handler is given; changing pt_regs alone
# loses those kicks.  Before the handler wrote both, this test failed
# (see the closing note of this change: "a kick did not end its halt",
# rescues > 0).
#
# A 2-vCPU TCG guest on two host CPUs loads pvli_nmi_kick.ko: for 10 s a
# kthread on vCPU 1 halts with interrupts off on a word, with the window
# between check and hlt widened by the shim's test hook, and a kthread on
# vCPU 0 sets the word at a random moment and kicks.  The module fails
# the load if any halt outlived its kick by 500 ms (a lost kick lasts
# until the watchdog's NMI, a second), or if nothing halted or was
# kicked.  Then the module's NMI
# handler must have claimed every NMI (the runner's console scan fails on
# "NMI received for unknown reason").  The watchdog that ends a halt no
# kick ended runs only while irqs-off halts are armed (enabled, and held
# by a user: here the test module, else the live takeover): its per-CPU
# hrtimers are in /proc/timer_list during the test (one per vCPU), not
# before or after.
. "$(dirname "$0")/lib.sh"

out=$(vm nmi-kick --smp 2 --host-cpus 0-1 --timeout 90 --run "$GUEST_WATCHDOGS"'
	modprobe pvlockinfo || exit 10
	# Enabled by default, armed only while a user holds them: the
	# watchdog hrtimers (nmi_watch) are queued then and only then.
	grep "^takeover:" /sys/kernel/debug/pvlockinfo/status | sed "s/^/status-before: /"
	echo "watch-before=$(watchdogs 2)"
	( sleep 5; echo "watch-during=$(watchdogs 2)" ) &
	modprobe pvli_nmi_kick seconds=10
	echo nmi-kick-rc=$?
	wait
	echo "watch-after=$(watchdogs 2)"
	dmesg | grep -E "pvli_nmi_kick|irqs-off halts|halted with interrupts off"
')
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "guest run failed or hung (exit $rc)"
echo "$out" | matches 'pvli_nmi_kick: [0-9]* rounds' || fail "the rounds did not run"
echo "$out" | matches '^nmi-kick-rc=0$' || fail "an NMI kick did not end its halt (see above)"
echo "$out" | matches '^status-before: .*irqs-off halts on (armed while the takeover is live and on)' ||
	fail "status with pvlockinfo alone: $(echo "$out" | grep '^status-before:')"
expect_eq "watchdog timers queued per vCPU with pvlockinfo loaded, no user of irqs-off halts" \
	"$(echo "$out" | sed -n 's/^watch-before=//p')" "0 0 "
expect_eq "watchdog timers queued per vCPU while the test holds irqs-off halts" \
	"$(echo "$out" | sed -n 's/^watch-during=//p')" "1 1 "
expect_eq "watchdog timers queued per vCPU once the test is done" \
	"$(echo "$out" | sed -n 's/^watch-after=//p')" "0 0 "
line=$(echo "$out" | grep 'pvli_nmi_kick: [0-9]* rounds')
note "${line#*pvli_nmi_kick: }"
