#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 300
#
# pvlockstat as a Prometheus exporter, on a guest with 4 vCPUs on one host
# CPU running the lock harness (lock holders are preempted all the time):
#  - --listen: two scrapes 5 s apart are clean under `promtool check
#    metrics`, carry every family for each vCPU, no counter goes down,
#    preemptions, run and steal grow, lock-holder preemptions and holder
#    off-CPU times are counted (tests/helpers/prom-check.py);
#  - --textfile: the file node_exporter reads is written every interval,
#    clean under promtool, and removed when pvlockstat stops;
#  - the Grafana dashboard queries only metrics the exporter exports;
#  - SIGTERM ends both modes at once with status 0.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
	skip "promtool is missing (Debian's prometheus package; ./configure installs it)"
start_pvlockd
name=t-prom-$$
out=$PVLI_LOGDIR/guest.out
"$WRAPPER" -q --name "$name" --smp 4 --host-cpus 0 --channel on \
	--console-log "$PVLI_LOGDIR/prom.console" --run '
modprobe pvlockinfo_test || exit 1
echo READY
# The harness keeps every vCPU busy: let the serial port drain first.
sleep 3
pvlock-bench -p shfl-pv -d 60000 >/dev/null || exit 1
echo BENCH-DONE' >"$out" 2>&1 &
vm_pid=$!
at_exit 'kill $vm_pid 2>/dev/null; wait $vm_pid 2>/dev/null'
wait_for "$out" READY 150 || fail "the guest did not come up: $(cat "$out")"

# ---- --listen, on a port the kernel picks ----
"$PVLI_BUILD/host/pvlockstat" --listen 127.0.0.1:0 --vm "$name" \
	>"$PVLI_LOGDIR/listen.out" 2>"$PVLI_LOGDIR/listen.err" &
ps_pid=$!
at_exit 'kill $ps_pid 2>/dev/null; wait $ps_pid 2>/dev/null'
wait_for "$PVLI_LOGDIR/listen.err" 'serving metrics at' 20 ||
	fail "pvlockstat --listen did not start: $(cat "$PVLI_LOGDIR/listen.err")"
url=$(sed -n 's/.*serving metrics at \(http[^ ]*\).*/\1/p' "$PVLI_LOGDIR/listen.err")
note "exporter at $url"
# The harness needs a few seconds to start its threads after READY.
sleep 5
python3 "$PVLI_SRC/tests/helpers/prom-check.py" "$url" --vm "$name" --vcpus 4 --gap 5 \
	--want-lhp || fail "the exposition at $url is not right (see above)"
curl -s "$url" >"$PVLI_LOGDIR/metrics.txt"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/nothing")
expect_eq "HTTP status of an unknown path" "$code" 404
start=$SECONDS
kill -TERM $ps_pid
wait $ps_pid
rc=$?
expect_eq "exit status of pvlockstat --listen after SIGTERM" "$rc" 0
[ $((SECONDS - start)) -le 2 ] || fail "pvlockstat --listen took $((SECONDS - start)) s to stop"

# ---- --textfile, every second, three times ----
dir=$PVLI_LOGDIR/textfile
mkdir -p "$dir"
"$PVLI_BUILD/host/pvlockstat" --textfile "$dir" --vm "$name" 1 >/dev/null \
	2>"$PVLI_LOGDIR/textfile.err" &
ps_pid=$!
wait_for "$PVLI_LOGDIR/textfile.err" 'writing' 20 ||
	fail "pvlockstat --textfile did not start: $(cat "$PVLI_LOGDIR/textfile.err")"
for _ in $(seq 50); do [ -s "$dir/pvlockstat.prom" ] && break; sleep 0.1; done
first=$(stat -c %y "$dir/pvlockstat.prom" 2>/dev/null) ||
	fail "pvlockstat --textfile wrote no $dir/pvlockstat.prom"
sleep 2.5
cp "$dir/pvlockstat.prom" "$PVLI_LOGDIR/textfile.prom"
[ "$(stat -c %y "$dir/pvlockstat.prom")" != "$first" ] ||
	fail "$dir/pvlockstat.prom was not rewritten within 2.5 s at a 1 s interval"
python3 "$PVLI_SRC/tests/helpers/prom-check.py" --file "$PVLI_LOGDIR/textfile.prom" \
	--vm "$name" --vcpus 4 --dashboard "$PVLI_SRC/host/grafana/pvlockinfo.json" ||
	fail "the textfile is not right (see above)"
ls -A "$dir" | grep -v '^pvlockstat.prom$' && fail "temporary files left in $dir"
kill -TERM $ps_pid
wait $ps_pid
expect_eq "exit status of pvlockstat --textfile after SIGTERM" "$?" 0
[ ! -e "$dir/pvlockstat.prom" ] || fail "pvlockstat left $dir/pvlockstat.prom behind"
note "textfile rewritten every interval and removed at exit"
