#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pvlockinfo test runner.
#
# Unit tests are the cmocka binaries in BUILD/tests/unit; VM tests are the
# scripts in tests/vm whose header says "# suite: check" (or "long") and
# "# timeout: SECONDS".  Exit codes follow liburing: 0 pass, 1 fail, 77 skip
# (the test's last output line says why).  After every VM test the guest
# console logs it left in its log directory (*.console) are scanned for
# kernel BUG/WARNING/Oops/lockup/stall reports, which fail the test.

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$src/build
suite=check
only=
keep_failed=5

usage() {
	cat <<EOF
Usage: tests/run.sh [--build=DIR] [--suite=unit|check|long] [--only=NAME] [--list]

  --build=DIR    build directory [$build]
  --suite=S      unit: cmocka tests only; check: unit + VM tests (make check);
                 long: the torture and soak tests (make check-long) [$suite]
  --only=NAME    run only the tests whose name contains NAME
  --list         list the tests of the suite and exit

Logs go to BUILD/test-logs/NAME/, which the test's next run replaces; a
failed run's logs are also copied to BUILD/test-logs/failed/NAME-TIME/
(the newest $keep_failed per test are kept), so that rerunning a failed test
to see whether it fails again does not lose the first failure's logs.
The summary line reads "N passed, N failed, N skipped".
EOF
}

list=no
for opt do
	case "$opt" in
	--build=*) build=${opt#*=} ;;
	--suite=*) suite=${opt#*=} ;;
	--only=*) only=${opt#*=} ;;
	--list) list=yes ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown option '$opt'" >&2; usage >&2; exit 2 ;;
	esac
done
case "$suite" in unit|check|long) ;; *) echo "run.sh: bad suite '$suite'" >&2; exit 2 ;; esac

header() { sed -n "s/^# $2: *//p" "$1" | head -n1; }

tests=()
if [ "$suite" != long ]; then
	for t in "$build"/tests/unit/test_*; do
		[ -x "$t" ] && tests+=("$t")
	done
fi
if [ "$suite" != unit ]; then
	for t in "$here"/vm/*.sh; do
		[ "$(header "$t" suite)" = "$suite" ] && tests+=("$t")
	done
fi

# Kernel reports that fail a test wherever they appear in a guest console.
KERNEL_BAD='(BUG:|WARNING:|Oops|general protection fault|soft lockup|hard LOCKUP|rcu_sched self-detected stall|rcu: INFO:|hung_task|Call Trace:|UBSAN:|KASAN:|NMI received for unknown reason)'

passed=0 failed=0 skipped=0
failures=()
logs=$build/test-logs
mkdir -p "$logs"
total_start=$SECONDS

# What a timing-sensitive failure elsewhere is diagnosed from: the host
# kernel, its TSC (what TCG guests read) and the guests' clocksource.
host_tsc=$("$build/host/pvli-host-tsc" 2>&1) && host_tsc="invariant, $host_tsc kHz"
host_facts="host: $(uname -r), $(nproc) CPUs, TSC ${host_tsc#pvli-host-tsc: }"

# guest_clock LOGDIR: each guest console's final clocksource, and whether
# its kernel marked the TSC unstable (then it fell back to a slow clock).
guest_clock() {
	local c cs why
	for c in "$1"/*.console; do
		[ -e "$c" ] || continue
		cs=$(tr -d '\r' <"$c" | sed -n 's/.*clocksource: Switched to clocksource \([a-z_-]*\).*/\1/p' | tail -n1)
		why=$(tr -d '\r' <"$c" | sed -n 's/.*tsc: Marking TSC unstable due to \(.*\)/\1/p' | head -n1)
		printf '%s: clocksource %s%s\n' "$(basename "$c" .console)" "${cs:-unknown}" \
			"${why:+, TSC marked unstable ($why)}"
	done
}
[ $list = yes ] || echo "$host_facts"

# keep_failed_logs NAME LOGDIR: copy a failed run's logs where the test's
# next run does not replace them, drop all but the newest $keep_failed of
# that test, and print where they went.
keep_failed_logs() {
	local dest old
	dest=$logs/failed/$1-$(date +%Y%m%d-%H%M%S)
	mkdir -p "$logs/failed" && cp -a "$2" "$dest" || { echo "nowhere: copy failed"; return; }
	# Names sort by time; keep the last $keep_failed.
	for old in $(ls -d "$logs/failed/$1"-[0-9]* | head -n -"$keep_failed"); do
		rm -rf "$old"
	done
	echo "$dest"
}

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	[ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
	if [ $list = yes ]; then echo "$name"; continue; fi

	tlog=$logs/$name
	rm -rf "$tlog"
	mkdir -p "$tlog"
	limit=$(header "$t" timeout)
	: "${limit:=120}"
	printf '%-32s ' "$name"
	start=$SECONDS
	PVLI_SRC=$src PVLI_BUILD=$build PVLI_LOGDIR=$tlog \
		timeout --kill-after=15 "$limit" "$t" >"$tlog/output.log" 2>&1 </dev/null
	rc=$?
	secs=$((SECONDS - start))

	bad=
	if compgen -G "$tlog/*.console" >/dev/null; then
		bad=$(cat "$tlog"/*.console | tr -d '\r' | grep -E -m5 "$KERNEL_BAD")
		{ echo "# $host_facts"; guest_clock "$tlog" | sed 's/^/# guest /'; } >>"$tlog/output.log"
	fi
	if [ $rc -eq 0 ] && [ -n "$bad" ]; then
		echo "guest kernel reported a problem:" >>"$tlog/output.log"
		echo "$bad" >>"$tlog/output.log"
		rc=1
	fi

	unstable=$(guest_clock "$tlog" | grep 'TSC marked unstable')
	case $rc in
	0) passed=$((passed + 1)); echo "PASS (${secs}s)" ;;
	77) skipped=$((skipped + 1)); echo "SKIP: $(tail -n1 "$tlog/output.log")" ;;
	*)
		failed=$((failed + 1)); failures+=("$name")
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "FAIL: timed out after ${limit}s"
		else
			echo "FAIL (exit $rc, ${secs}s)"
		fi
		kept=$(keep_failed_logs "$name" "$tlog")
		echo "  --- last lines of $tlog/output.log (kept in $kept) ---"
		tail -n 30 "$tlog/output.log" | sed 's/^/  /'
		;;
	esac
	[ -z "$unstable" ] || echo "$unstable" | sed 's/^/  note: guest /'
done
[ $list = yes ] && exit 0

echo
echo "suite '$suite' took $((SECONDS - total_start)) s"
[ $failed -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
