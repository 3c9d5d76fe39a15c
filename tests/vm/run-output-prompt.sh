#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 150
#
# A line that a --run command prints once, and then stays silent for a
# minute, reaches pvlock-qemu's output while the command still runs.
#
# Two guests print READY-LINE and sleep 60 s.  Each must deliver the line
# within DEADLINE s of its /init starting (it travels in milliseconds;
# the stall this guards against lasted until the command ended).
#   own:    the host's awk as it is;
#   banner: an awk whose "-W version" banner arrives in two pieces with a
#           pause between them.  mawk writes its banner's first line to
#           stdout and the rest to stderr, so on a busy host a reader
#           can see the first line and exit before the rest is written;
#           pvlock-qemu once took the SIGPIPE that followed for "not
#           mawk" and streamed through plain mawk, which holds a pipe's
#           data until 4 KiB have come or the writer closed it.
. "$(dirname "$0")/lib.sh"

DEADLINE=10
real_awk=$(command -v awk) || skip "no awk on the host"
shim=$PVLI_LOGDIR/banner-bin
mkdir -p "$shim"
cat >"$shim/awk" <<EOF
#!/bin/sh
# The host's awk; its version banner's first line comes 0.5 s before the rest.
if [ "\$1" = -W ] && [ "\$2" = version ]; then
	"$real_awk" -W version 2>&1 | { IFS= read -r first; printf '%s\n' "\$first"; sleep 0.5; cat; }
	exit
fi
exec "$real_awk" "\$@"
EOF
chmod +x "$shim/awk"

cmd='echo READY-LINE; sleep 60; echo LATE-LINE'
pids=()
at_exit 'kill ${pids[*]} 2>/dev/null; wait ${pids[*]} 2>/dev/null'
for kind in own banner; do
	path=$PATH
	[ $kind = banner ] && path=$shim:$PATH
	PATH=$path vm "$kind" --channel off --timeout 120 --run "$cmd" >"$PVLI_LOGDIR/$kind.out" 2>&1 &
	pids+=($!)
done

failed=
for kind in own banner; do
	console=/run/pvlockinfo/qemu/t-$kind-$$/console.log
	wait_for "$console" '^pvli-init: up' 100 ||
		fail "guest '$kind' did not start /init: $(cat "$PVLI_LOGDIR/$kind.out")"
	up=$(date +%s%N)
	if wait_for "$PVLI_LOGDIR/$kind.out" READY-LINE $DEADLINE; then
		note "$kind awk: the line arrived $((($(date +%s%N) - up) / 1000000)) ms after /init started"
	else
		note "$kind awk: the line did not arrive within $DEADLINE s of /init starting"
		failed+=" $kind"
	fi
done
[ -z "$failed" ] || fail "a line printed once stalled on its way out (awk:$failed)"
