#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 120
#
# What one VM may learn of the host and of other VMs:
#  - pvlockd attaches a QEMU only if it maps its own page and no other
#    (it asks QEMU over QMP which BPF maps its memory-backend-bpf objects
#    map);
#  - the run quota is bounded by the VM's own cgroup, not by ancestors'
#    bandwidth pools that other VMs share, unless the operator asks
#    (register ... quota-ancestors);
#  - the host CPU number is published only when asked (register ... pcpu);
#  - pvlockctl status --json keeps the page's fields, which the guest can
#    write, apart from the host's private counters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault-lib.sh"

own_pvlockd || fail "pvlockd did not start"
fake_vm a 2

# A QEMU mapping another VM's page.
reply=$("$PVLOCKCTL" register thief 2 tcg) || fail "register: $reply"
fake_start thief 2 --map-pin "$PIN_VMS/a/page"
out=$("$PVLOCKCTL" attach thief "$PVLI_LOGDIR/thief.qmp" 2>&1) &&
	fail "a QEMU that maps VM a's page was attached as thief: $out"
note "refused: $out"
# A QEMU mapping no page at all.
reply=$("$PVLOCKCTL" register nopage 1 tcg) || fail "register: $reply"
fake_start nopage 1
out=$("$PVLOCKCTL" attach nopage "$PVLI_LOGDIR/nopage.qmp" 2>&1) &&
	fail "a QEMU that maps no page was attached: $out"
note "refused: $out"
for t in $(fake_tids thief) $(fake_tids nopage); do
	[ -z "$(vcpus_entry "$t")" ] || fail "thread $t of a refused QEMU is registered"
done
"$PVLOCKCTL" unregister thief >/dev/null
"$PVLOCKCTL" unregister nopage >/dev/null

# vcpu0 NAME JQ: a field of vCPU 0 in status --json (either layout).
vcpu0() {
	"$PVLOCKCTL" status --json | jq -r --arg n "$1" ".vms[] | select(.name == \$n) | .vcpus[0] | $2"
}

# pcpu: hidden unless asked for.
pcpu=$(vcpu0 a '.page.host.pcpu // .pcpu')
[ "$pcpu" = 4294967295 ] || fail "VM a's page shows host CPU $pcpu without opting in"
REGISTER_OPTS=pcpu fake_vm withcpu 1
sleep 0.2
pcpu=$(vcpu0 withcpu '.page.host.pcpu // .pcpu')
[ "$pcpu" -lt "$(nproc)" ] || fail "VM withcpu opted in, but its page shows host CPU '$pcpu'"
note "host CPU hidden by default, published on request ($pcpu)"

# Quota: a VM in cgroup parent/vm, parent capped at 20 ms per 100 ms.
# Alone on host CPU 1, its spinning vCPU competes with nothing in its own
# cgroup: no bound there (-1).  With quota-ancestors, the parent's pool
# bounds it.
parent=$(cgroup_cap "pvli-iso-$$" 20000 100000) || fail "cannot create a capped cgroup"
at_exit "cgroup_uncap $parent"
mkdir "$parent/vm" || fail "cannot create $parent/vm"
at_exit "cgroup_uncap $parent/vm"
# max_quota NAME: the largest quota vCPU 0 showed over 10 looks while
# running (-1: unbounded in any of them; -2: never seen running in 400
# looks).  The cap lets it run 20 ms in every 100: the looks are 10-90 ms
# apart at random, since a fixed gap plus the time a look takes can lock
# onto that period and see only the throttled part (a CI run saw vCPU 0
# running in none of 40 looks 50 ms apart).
max_quota() {
	local q max=-2 s seen=0
	for _ in $(seq 400); do
		s=$(vcpu0 "$1" '[(.page.host.state // .state), (.page.host.quota_ns // .quota_ns)] | join(" ")')
		q=${s#* }
		if [ "${s% *}" = running ]; then
			if [ "$q" = -1 ] || [ "$max" = -1 ]; then max=-1; elif [ "$q" -gt "$max" ]; then max=$q; fi
			seen=$((seen + 1))
			[ $seen -ge 10 ] && break
		fi
		sleep 0.0$((RANDOM % 9 + 1))
	done
	echo "$max"
}
fake_vm own 1 --spin --cgroup "$parent/vm"
taskset -apc 1 "${FAKE_PID[own]}" >/dev/null
q=$(max_quota own)
note "quota seen, own cgroup only: $q"
[ "$q" != -2 ] || fail "VM own's vCPU 0 was never seen running in 400 looks"
[ "$q" = -1 ] || fail "VM own's quota is bounded ($q ns) by something outside its own cgroup"
kill -TERM "${FAKE_PID[own]}"
REGISTER_OPTS=quota-ancestors fake_vm anc 1 --spin --cgroup "$parent/vm"
taskset -apc 1 "${FAKE_PID[anc]}" >/dev/null
q=$(max_quota anc)
note "quota seen, ancestors asked for: $q"
[ "$q" != -2 ] && [ "$q" != -1 ] && [ "$q" -le 30000000 ] ||
	fail "with quota-ancestors, VM anc's quota ($q) is not bounded by its parent's 20 ms pool"
kill -TERM "${FAKE_PID[anc]}"

# status --json: what the page says (guest-writable) apart from what only
# the host counts.  Scribble on a's page as a guest could.
pin=$PIN_VMS/a/page
rec=$(bpftool -j map lookup pinned "$pin" key 1 0 0 0 | jq -r '.value | map(.[2:]) | join(" ")')
garbage=$(sed 's/^\(\([0-9a-f]* \)\{40\}\)[0-9a-f]* [0-9a-f]* [0-9a-f]* [0-9a-f]*/\1ff ff ff 7f/' <<<"$rec")
bpftool map update pinned "$pin" key 1 0 0 0 value hex $garbage || fail "cannot write a's page"
v=$("$PVLOCKCTL" status --json | jq -c '.vms[] | select(.name == "a") | .vcpus[0]')
echo "$v" >"$PVLI_LOGDIR/vcpu0.json"
jq -e '.counters.preempted | numbers' <<<"$v" >/dev/null ||
	fail "status --json has no host-private .counters: $v"
jq -e '.page.host.preempt_count | numbers' <<<"$v" >/dev/null ||
	fail "status --json has no guest-writable .page.host: $v"
jq -e '.page.guest | objects' <<<"$v" >/dev/null || fail "status --json has no .page.guest: $v"
[ "$(jq '.page.host.preempt_count >= 2147483647' <<<"$v")" = true ] ||
	fail "the scribbled preempt_count is not what .page.host shows: $v"
[ "$(jq '.counters.preempted < 2147483647' <<<"$v")" = true ] ||
	fail "the scribble reached the host-private counters: $v"
note "status --json: page fields (scribbled) apart from host counters"
xcheck a withcpu
