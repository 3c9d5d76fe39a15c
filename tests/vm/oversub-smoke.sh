#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# The main job's smoke mode: bench/vcpu_oversub.sh --smoke runs a
# seconds-long sweep (overcommit 1x, native and shfl-pv, one 300 ms rep);
# every output file must exist and parse: raw JSON lines with the
# harness's fields, the CSV, the markdown and text summaries with the
# ceilings, the policies against them and the targets, the host
# pvlockstat intervals, the guest pvlocktrace split of
# the traced pass, and three PNG plots.  Then --resume keeps a finished
# part and reruns an unfinished one without duplicating its results.
. "$(dirname "$0")/lib.sh"

start_pvlockd
out=$PVLI_LOGDIR/oversub
"$PVLI_SRC/bench/vcpu_oversub.sh" --smoke --no-setup --out "$out" | tee "$PVLI_LOGDIR/smoke.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "vcpu_oversub.sh --smoke failed"

# The clock counts the whole sweep: the lock part's last line still has
# the user-space part (about 20 s planned) ahead of it, and that part's
# lines count on.  (It once said "about 0:03 left" there, minutes early.)
last_lock=$(grep '^  \[overcommit 1x\] run .* left)$' "$PVLI_LOGDIR/smoke.txt" | tail -n1)
[ -n "$last_lock" ] || fail "the lock part's progress lines do not say the time left"
left=$(sed 's/.*about \([0-9]*\):\([0-9]*\) left)$/\1 \2/' <<<"$last_lock")
[ $(( ${left% *} * 60 + 10#${left#* } )) -ge 10 ] ||
	fail "the lock part's last line leaves out the user-space part: $last_lock"
grep -q '^  \[1x\] run [0-9]*/4: .*(about [0-9]*:[0-9][0-9] left)$' "$PVLI_LOGDIR/smoke.txt" ||
	fail "the user-space part's progress lines do not count the sweep's time left"

n=$(jq -s 'length' "$out/results.jsonl") || fail "results.jsonl does not parse"
expect_eq "harness results in results.jsonl" "$n" 2
expect_eq "policies measured" "$(jq -r .policy "$out/results.jsonl" | sort | tr '\n' ' ')" "native shfl-pv "
jq -e 'select(.scenario == "overcommit" and .config == "1x" and .ops_per_s > 0 and
	.violations == 0 and (.lat_hist | length) > 0 and .max_bypass >= 0)' "$out/results.jsonl" >/dev/null ||
	fail "results.jsonl lacks the tags, throughput, latency histogram or bypass"
expect_eq "results.csv rows (header + runs)" "$(wc -l <"$out/results.csv")" 3
head -n1 "$out/results.csv" | matches '^scenario,config,policy,rep,' || fail "results.csv header"
grep -q '^| overcommit | 1x | shfl-pv |' "$out/summary.md" || fail "summary.md has no shfl-pv row"
grep -q '^## Targets' "$out/summary.md" || fail "summary.md has no targets"
grep -q '^targets (' "$out/summary.txt" || fail "summary.txt has no targets"
grep -q '^  8x2: shfl-pv / 1x ceiling .*not measured$' "$out/summary.txt" ||
	fail "summary.txt does not say which targets this run could not measure"
# 1x is its own ceiling: native's median, so native against it is 1.00.
awk '$1 == "overcommit" && $2 == "1x" && $3 == "1x" && $4 == "native" && $5 > 0 { ok = 1 }
	END { exit !ok }' "$out/summary.txt" || fail "summary.txt has no 1x ceiling"
awk '$1 == "overcommit" && $2 == "1x" && $3 == "native" && $4 == "1.00" { ok = 1 } END { exit !ok }' \
	"$out/summary.txt" || fail "summary.txt: native at 1x is not 1.00 of its own ceiling"
grep -q '^## Ceilings and the lock part against them' "$out/summary.md" || fail "summary.md has no ceilings"
jq -s -e 'length >= 1 and all(.[]; has("vms"))' "$out/pvlockstat-overcommit_1x.jsonl" >/dev/null ||
	fail "pvlockstat output missing or unparsable"
# The traced pass: a pvlocktrace total and the harness's figures per policy.
expect_eq "traced policies in trace.jsonl" \
	"$(jq -r .traced_policy "$out/trace.jsonl" | sort | tr '\n' ' ')" "native shfl-pv "
jq -e -s 'length == 2 and all(.[]; .waits_ns >= 0 and .scenario == "overcommit")' \
	"$out/traced_runs.jsonl" >/dev/null || fail "traced_runs.jsonl missing or unparsable"
# --smoke traces 200 ms runs beside its 300 ms measured ones (--trace-ms).
expect_eq "traced runs' length (ms)" "$(jq -r .duration_ms "$out/traced_runs.jsonl" | sort -u | tr '\n' ' ')" "200 "
expect_eq "measured runs' length (ms)" "$(jq -r .duration_ms "$out/results.jsonl" | sort -u | tr '\n' ' ')" "300 "
jq -e -s '[.[] | .traced_policy as $p | .policies[] | select(.policy == $p) |
	.holder_running_ns + .holder_preempted_ns + .handoff_ns + .unplaced_ns == .wait_ns] |
	length == 2 and all' "$out/trace.jsonl" >/dev/null || fail "trace.jsonl: a split does not add up"
grep -q '^## Where wait time went' "$out/summary.md" || fail "summary.md has no wait-time split"
# The takeover runs: hackbench and stress-ng's msg (--smoke's workloads),
# each once off and once on, every one with a value in its unit.
jq -e -s 'length == 4 and ([.[].takeover] | sort) == [0, 0, 1, 1] and
	([.[].workload] | unique) == ["hackbench", "msg"] and
	all(.[]; .value > 0 and .unit == (if .workload == "hackbench" then "s" else "ops/s" end))' \
	"$out/takeover.jsonl" >/dev/null || fail "takeover.jsonl missing, unparsable or without values"
# Their waiting: parts within the whole; nothing counted while removed.
jq -e -s 'all(.[]; .steal_us >= 0 and .oncpu_us >= 0 and .steal_us + .oncpu_us <= .wait_us) and
	all(.[] | select(.takeover == 0); .wait_us == 0 and .halts == 0)' \
	"$out/takeover.jsonl" >/dev/null || fail "takeover.jsonl: a waiting split does not add up"
grep -q '^## Kernel spinlocks: takeover off and on' "$out/summary.md" || fail "summary.md has no takeover table"
grep -q '| halts | on-cpu | halted/blocked | n |' "$out/summary.md" || fail "summary.md's takeover table has no waiting split"
for p in throughput latency_cdf lhp_rate; do
	[ "$(head -c 8 "$out/$p.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		fail "$p.png is not a PNG"
done
note "outputs: $(cd "$out" && ls | tr '\n' ' ')"

# --resume: a finished part is kept as it is; an unfinished one (its done
# marker missing, as after Ctrl-C or a dead VM) is run again and its
# partial results replaced, not added to.
"$PVLI_SRC/bench/vcpu_oversub.sh" --smoke --no-setup --resume --out "$out" >"$PVLI_LOGDIR/resume1.txt" 2>&1 ||
	fail "--resume of a finished sweep failed: $(tail -n 3 "$PVLI_LOGDIR/resume1.txt")"
grep -q 'done in an earlier run, kept' "$PVLI_LOGDIR/resume1.txt" || fail "--resume reran a finished part"
rm "$out/done/overcommit_1x"
"$PVLI_SRC/bench/vcpu_oversub.sh" --smoke --no-setup --resume --out "$out" >"$PVLI_LOGDIR/resume2.txt" 2>&1 ||
	fail "--resume of an unfinished part failed: $(tail -n 3 "$PVLI_LOGDIR/resume2.txt")"
grep -q '\[1/1\] overcommit 1x (workload: short)' "$PVLI_LOGDIR/resume2.txt" || fail "--resume did not rerun the unfinished part"
expect_eq "harness results after resuming" "$(jq -s 'length' "$out/results.jsonl")" 2
expect_eq "traced results after resuming" "$(jq -s 'length' "$out/trace.jsonl")" 2
expect_eq "takeover results after resuming" "$(jq -s 'length' "$out/takeover.jsonl")" 4
[ -e "$out/done/overcommit_1x" ] || fail "the rerun part has no done marker"
