#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 90
#
# An upgraded pvlockd attaches its own programs: a pinned link that runs
# another program than the one pvlockd loads (an older pvlockd's) is
# replaced, without a moment where the tracepoint has no program, and the
# old link goes away.  The "older program" here is the sched_wakeup
# program pinned where sched_switch's link belongs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

LINKS=/sys/fs/bpf/pvlockinfo/links
own_pvlockd || fail "pvlockd did not start"
fake_vm a 2
kill9_pvlockd
mv "$LINKS/sched_wakeup" "$LINKS/sched_switch" || fail "cannot move the pinned links"
prog_of() { bpftool -j link show pinned "$1" | jq -r .prog_id | xargs -I{} bpftool -j prog show id {} | jq -r .name; }
note "before the restart, $LINKS/sched_switch runs $(prog_of "$LINKS/sched_switch")"
own_pvlockd || fail "pvlockd did not restart"
name=$(prog_of "$LINKS/sched_switch")
case "$name" in pvli_switch_*) ;; *) fail "after the restart, sched_switch's link runs '$name'" ;; esac
name=$(prog_of "$LINKS/sched_wakeup")
case "$name" in pvli_wakeup_*) ;; *) fail "after the restart, sched_wakeup's link runs '$name'" ;; esac
wakeups=0
for id in $(bpftool -j link list | jq -r '.[].prog_id'); do
	case "$(bpftool -j prog show id "$id" | jq -r .name)" in pvli_wakeup_*) wakeups=$((wakeups + 1)) ;; esac
done
expect_eq "links running the wakeup program" "$wakeups" 1
# The switch program runs again: a's vCPUs' switches are counted.
count() { "$PVLOCKCTL" status --json | jq '[.vms[] | select(.name == "a") | .vcpus[] | (.counters.switch_out // .switch_out)] | add'; }
c1=$(count)
sleep 1
c2=$(count)
[ "$c2" -gt "$c1" ] || fail "no switch counted after the upgrade ($c1 -> $c2)"
note "the replaced link counts switches again ($c1 -> $c2 in 1 s)"
