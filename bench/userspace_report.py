#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Report of libpvlock's bench (bench/userspace_locks.sh).

Usage: userspace_report.py OUT-DIR

Reads OUT-DIR/userspace.jsonl and writes OUT-DIR/userspace.txt (also
printed) and OUT-DIR/userspace.md: median throughput per configuration,
workload and lock variant, min-max, the ratio to glibc's default mutex
and of libpvlock with both levels to guest-only knowledge, and the
targets.  The main job's report (oversub_report.py) includes the same
section when the sweep ran this part.
"""
import os
import sys

from report import userspace


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    out = sys.argv[1]
    rep = userspace.report(out)
    if rep is None:
        sys.exit(f"userspace_report: no result in {os.path.join(out, 'userspace.jsonl')}")
    text, md = rep
    with open(os.path.join(out, "userspace.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "userspace.md"), "w") as f:
        f.write("# libpvlock bench\n\n" + md)
    print(text, end="")


if __name__ == "__main__":
    main()
