#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""ctl-latency: how long pvlockd takes to answer, measured from outside.

Sends "status" to pvlockd's control socket every --interval seconds and
times each whole exchange (connect, request, reply until pvlockd closes).
pvlockd answers from one event loop, so an exchange that takes long means
that loop was blocked.  Runs until SIGTERM or SIGINT (or --duration),
then prints one JSON object: probes, failed, max_ms, p99_ms, median_ms,
and the slowest probes' start times (s since start).
"""

import argparse
import json
import signal
import socket
import statistics
import sys
import time

done = False


def stop(*_):
    global done
    done = True


def probe(path, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(b"status\n")
        while s.recv(65536):
            pass
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", default="/run/pvlockinfo/pvlockd.sock")
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--duration", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    t0 = time.monotonic()
    times, failed, slow = [], 0, []
    while not done and (not args.duration or time.monotonic() - t0 < args.duration):
        start = time.monotonic()
        try:
            probe(args.socket, args.timeout)
        except OSError:
            failed += 1
        ms = (time.monotonic() - start) * 1000
        times.append(ms)
        slow.append((ms, round(start - t0, 2)))
        slow = sorted(slow, reverse=True)[:5]
        time.sleep(args.interval)
    times.sort()
    out = {"probes": len(times), "failed": failed,
           "max_ms": round(times[-1], 2) if times else None,
           "p99_ms": round(times[int(0.99 * (len(times) - 1))], 2) if times else None,
           "median_ms": round(statistics.median(times), 2) if times else None,
           "slowest": [{"ms": round(m, 1), "at_s": t} for m, t in slow]}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
