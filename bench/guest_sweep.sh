# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the bench scripts: the guest side of a policy sweep.
#
# guest_sweep_cmd REPS "POLICIES" DUR_MS CS_NS NCS_NS LOCKS JSON_TAG WAIT_TENTHS [TRACE]
#   prints the shell command pvlock-qemu --run gives the guest: load
#   pvlockinfo.ko, wait up to WAIT_TENTHS/10 s for the channel, then REPS
#   times run every policy once in turn (A B C .. A B C ..: machine drift hits
#   all policies alike) with pvlock-bench.  Each result line gets JSON_TAG
#   (e.g. "config":"2x",) inserted after its opening brace; progress goes to
#   stderr as "run K/N: POLICY (rep R)".
#   TRACE=1 adds one more pass with pvlocktrace attached, apart from the
#   measured reps (tracing costs throughput): per policy a "TRACEDRUN {...}"
#   line (the harness) and a "TRACE {...}" line (pvlocktrace -j's totals,
#   tagged with "traced_policy").
#   TAKEOVER=1 then runs Debian's hackbench REPS times with the kernel's
#   own spinlocks (takeover 0: livepatch removed) and with the takeover
#   applied and on (1), alternating (pvli-takeover apply/remove): one
#   "TAKEOVER {...}" line per run (seconds, halts).
guest_sweep_cmd() {
	local reps=$1 policies=$2 dur=$3 cs=$4 ncs=$5 locks=$6 tag=$7 wait=$8 trace=${9:-0}
	local takeover=${10:-0}
	local n=$(( $(wc -w <<<"$policies") * (reps + trace) + 2 * reps * takeover ))
	cat <<EOF_GUEST
modprobe pvlockinfo || exit 10
for i in \$(seq $wait); do grep -q 'available: yes' /sys/kernel/debug/pvlockinfo/status && break; sleep 0.1; done
k=0
for rep in \$(seq $reps); do
	for p in $policies; do
		k=\$((k + 1))
		echo "run \$k/$n: \$p (rep \$rep)" >&2
		pvlock-bench -p \$p -d $dur -c $cs -n $ncs -l $locks | sed 's/^{/{$tag/'
	done
done
EOF_GUEST
	if [ "$trace" = 1 ]; then
		cat <<EOF_GUEST
for p in $policies; do
	k=\$((k + 1))
	echo "run \$k/$n: \$p (traced by pvlocktrace)" >&2
	pvlocktrace -j >/tmp/trace.json 2>/tmp/trace.err &
	tp=\$!
	# Loading the BPF takes seconds under TCG with oversubscription.  Not
	# SIGINT: a background job of a script starts with it ignored, so one
	# sent before pvlocktrace takes it over would be lost (and wait hang).
	for i in \$(seq 1200); do grep -q tracing /tmp/trace.err && break; sleep 0.05; done
	if ! grep -q tracing /tmp/trace.err; then
		echo "pvlocktrace did not start in 60 s; traced run of \$p skipped: \$(cat /tmp/trace.err)" >&2
		kill -TERM \$tp; wait \$tp
		continue
	fi
	pvlock-bench -p \$p -d $dur -c $cs -n $ncs -l $locks | sed 's/^{/TRACEDRUN {$tag/'
	kill -TERM \$tp; wait \$tp || cat /tmp/trace.err >&2
	sed 's/^{/TRACE {$tag"traced_policy":"'\$p'",/' /tmp/trace.json
done
EOF_GUEST
	fi
	[ "$takeover" = 1 ] || return 0
	cat <<EOF_GUEST
for rep in \$(seq $reps); do
	for a in 0 1; do
		k=\$((k + 1))
		echo "run \$k/$n: hackbench, kernel-spinlock takeover \$a (rep \$rep)" >&2
		if [ \$a = 1 ]; then pvli-takeover apply && pvli-takeover on || exit 12
		else pvli-takeover remove || exit 12; fi
		h0=\$(pvli-takeover counters halts)
		t=\$(hackbench -g 4 -l 100 | sed -n 's/^Time: //p')
		echo 'TAKEOVER {$tag"takeover":'\$a',"rep":'\$rep',"hackbench_s":'\${t:-null}',"halts":'\$(( \$(pvli-takeover counters halts) - h0 ))'}'
	done
done
EOF_GUEST
}
