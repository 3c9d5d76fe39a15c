# SPDX-License-Identifier: GPL-2.0-only
# Sourced (bash) by the benches that run many short runs in guests
# (bench/vcpu_oversub.sh, bench/userspace_locks.sh): the time a sweep has
# left, for their progress lines.
#
# A sweep is planned in milliseconds: each run its length plus what goes
# around it, each guest its boot.  The plan alone is a poor clock (under
# TCG a run's start-up and a boot vary 2x between hosts), so once a
# minute's worth of the plan is done, the time left is the plan left
# scaled by the pace so far (elapsed over planned-and-done).  The runs of
# the different parts are weighted by their plans, so a part whose runs
# are shorter than the others' (the user-space part's) is not forecast at
# the lock part's pace.
#
#   progress_start TOTAL_MS [DONE_MS START_EPOCH]
#                      a sweep of TOTAL_MS planned, DONE_MS of it done
#                      before this process took over, begun at START_EPOCH
#                      (date +%s; default now)
#   progress_left DONE_MS
#                      "m:ss", the time left once DONE_MS of the plan is done
#   progress_arg DONE_MS
#                      "TOTAL:DONE:START", what a sweep hands the bench it
#                      runs as one of its parts (--progress), so that the
#                      part's lines count down the whole sweep
#   progress_follow PID FILE LABEL BASE_MS SPAN_MS RUNS
#                      while PID (a guest's pvlock-qemu) lives, print each
#                      new "run K/N ..." line the guest writes to FILE as
#                      "  [LABEL] run K/N ...   (about m:ss left)", run K
#                      begun once BASE_MS + (K - 1) * SPAN_MS / RUNS of the
#                      plan is done (the guest's boot in BASE_MS, its runs
#                      spread evenly over SPAN_MS); polls once a second

# A guest's boot to its first run, in the plan (ms): 10-20 s on a 2-CPU
# TCG host.  What a run costs beyond its length is each bench's own.
PROGRESS_BOOT_MS=15000

progress_start() {
	progress_total_ms=$1
	progress_before_ms=${2:-0}
	progress_t0=${3:-$(date +%s)}
}

progress_left() {
	local done_ms=$((progress_before_ms + $1)) el left_ms
	el=$(($(date +%s) - progress_t0))
	left_ms=$((progress_total_ms - done_ms))
	[ $left_ms -lt 0 ] && left_ms=0
	if [ $done_ms -ge 60000 ] && [ $el -gt 0 ]; then
		left_ms=$((left_ms * el * 1000 / done_ms))
	fi
	local s=$((left_ms / 1000))
	printf '%d:%02d' $((s / 60)) $((s % 60))
}

progress_arg() {
	echo "$progress_total_ms:$((progress_before_ms + $1)):$progress_t0"
}

progress_follow() {
	local pid=$1 file=$2 label=$3 base=$4 span=$5 runs=$6 line last= k
	while kill -0 "$pid" 2>/dev/null; do
		line=$(grep '^run [0-9]' "$file" 2>/dev/null | tail -n1)
		if [ -n "$line" ] && [ "$line" != "$last" ]; then
			last=$line
			k=$(sed 's|run \([0-9]*\)/.*|\1|' <<<"$line")
			printf '  [%s] %s   (about %s left)\n' "$label" "$line" \
				"$(progress_left $((base + (k - 1) * span / runs)))"
		fi
		sleep 1
	done
}
