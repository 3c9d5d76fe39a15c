#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Unit test of the benches' clock (bench/lib/progress.sh, sourced by
bench/vcpu_oversub.sh and bench/userspace_locks.sh): the time a sweep has
left, from its plan until a minute of the plan is done, then from the plan
scaled by the pace so far; the hand-over of the count to a part run
as a separate bench (progress_arg, --progress); and the progress lines
both benches print from a guest's "run k/n" lines (progress_follow).

The main job's clock once said "about 0:03 left" with six minutes of its
user-space part to go: that part was not in the count.  The cases below
pin the arithmetic and the user-space bench's own plan;
tests/vm/oversub-smoke.sh checks the main job's progress lines.

Run by make check-unit (linked into BUILD/tests/unit as test_progress);
exit 0 pass, 1 fail."""
import os
import subprocess
import tempfile
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
LIB = os.path.join(SRC, "bench", "lib", "progress.sh")


def bash(script, *args):
    r = subprocess.run(["bash", "-c", '. "$0"; ' + script, LIB, *args],
                       capture_output=True, text=True, cwd=SRC)
    r.check_returncode()
    return r.stdout.strip()


def secs(mss):
    m, s = mss.split(":")
    return int(m) * 60 + int(s)


class Left(unittest.TestCase):
    def test_plan_before_a_minute_is_done(self):
        # 10 min planned, 30 s done: the plan is the clock (9:30 left),
        # however long the 30 s took.
        t0 = int(time.time()) - 300
        left = bash('progress_start 600000 0 "$1"; progress_left 30000', str(t0))
        self.assertEqual(secs(left), 570)

    def test_pace_scales_the_plan_after_a_minute(self):
        # 10 min planned, 2 min of it done in 4 min: twice as slow as
        # planned, so the 8 min left take about 16.
        t0 = int(time.time()) - 240
        left = secs(bash('progress_start 600000 0 "$1"; progress_left 120000', str(t0)))
        self.assertAlmostEqual(left, 960, delta=10)

    def test_done_before_counts_with_the_same_start(self):
        # A part run by a separate bench: 5 min of 10 done before it, the
        # sweep begun 5 min ago, 1 min done since in the part: on plan.
        t0 = int(time.time()) - 360
        left = secs(bash('progress_start 600000 300000 "$1"; progress_left 60000', str(t0)))
        self.assertAlmostEqual(left, 240, delta=5)

    def test_never_negative(self):
        t0 = int(time.time()) - 100
        self.assertEqual(bash('progress_start 60000 0 "$1"; progress_left 90000', str(t0)), "0:00")

    def test_arg_hands_over_total_done_and_start(self):
        out = bash('progress_start 600000 1000 123; progress_arg 2000')
        self.assertEqual(out, "600000:3000:123")


class Benches(unittest.TestCase):
    def plan(self, *args):
        r = subprocess.run([os.path.join(SRC, "bench", "userspace_locks.sh"), "--plan-ms", *args],
                           capture_output=True, text=True, cwd=SRC)
        r.check_returncode()
        return int(r.stdout)

    def test_userspace_plan_counts_every_run_and_boot(self):
        # 4 configs, 3 workloads, 4 variants (5 at 4x), 3 reps of 2 s
        # (2.2 s planned each), a boot each.
        runs = 3 * 3 * (4 + 4 + 5 + 4)
        self.assertEqual(self.plan("--reps", "3"), runs * 2200 + 4 * 15000)
        self.assertEqual(self.plan("--configs", "4x", "--workloads", "micro", "--reps", "1",
                                   "--duration-ms", "300"), 5 * (1000 + 200) + 15000)


class Follow(unittest.TestCase):
    def test_each_new_run_line_once_with_the_time_left(self):
        # A guest that boots, starts run 1 of 4, prints a result, then run
        # 3 (run 2 came and went between two polls): each run line once,
        # labelled, with the time left once its boot (20 s) and k-1 of its
        # 4 runs over 40 s are done, of 100 s planned; nothing else.
        with tempfile.TemporaryDirectory() as d:
            out = bash('''progress_start 100000
( echo booting; sleep 0.3; echo "run 1/4: a (rep 1)"; echo "{}"; sleep 1.5
  echo "run 3/4: c (rep 1)"; sleep 1.5 ) >"$1/guest.out" &
progress_follow $! "$1/guest.out" "overcommit 2x" 20000 40000 4''', d)
        self.assertEqual(out.splitlines(), [
            "[overcommit 2x] run 1/4: a (rep 1)   (about 1:20 left)",
            "  [overcommit 2x] run 3/4: c (rep 1)   (about 1:00 left)"])


if __name__ == "__main__":
    unittest.main()
