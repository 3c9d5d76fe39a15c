#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Unit test of the main job's report (bench/report/): the ceilings, the
ratios to native, to 1x and to the ceiling, the per-thread shares, the
lock events per 1000 acquisitions and the issue-16 targets, on made-up
runs whose answers are worked out by hand in the comments.  Ends with
bench/oversub_report.py on a results directory written here, so the
printed table and targets are checked too.

Run by make check-unit (linked into BUILD/tests/unit as test_report);
exit 0 pass, 1 fail."""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
BENCH = os.path.join(SRC, "bench")
sys.path.insert(0, BENCH)

from report import compare, load, render, stats, userspace  # noqa: E402  (after the path is set)


def run(ops, *, p999=1000, max_ns=10**6, per_thread=(50, 50), violations=0, **events):
    """One harness object as pvlock-bench prints it, with the fields the
    report reads; events: stolen, queued, halts, ... (absent for native)."""
    acq = sum(per_thread)
    n = len(per_thread)
    r = {"ops_per_s": ops, "acquisitions": acq, "per_thread": list(per_thread),
         "fairness": acq * acq / (n * sum(x * x for x in per_thread)),
         "lat_ns": {"p50": 100, "p99": 500, "p999": p999, "max": max_ns},
         "elapsed_ns": 10**9, "violations": violations, "max_bypass": 7}
    r.update(events)
    return r


def core(ops, shuffles=0, **kw):
    """A lock-core run: every acquisition stolen or queued."""
    return run(ops, stolen=60, queued=40, halts=5, kicks=4, shuffles=shuffles,
               quota_waits=0, **kw)


def sweep():
    """A sweep in which shfl-pv meets some targets and misses others.

    ceilings: 1x native median 200 (runs 190, 200, 210); 4x single
    thread median 100 (90, 100, 400)."""
    o = "overcommit"
    runs = {
        (o, "1x", "native"): [run(190), run(200), run(210)],
        (o, "1x", "shfl"): [core(100)],
        (o, "1x", "shfl-pv"): [core(98)],        # 0.98 of shfl: met
        (o, "1x", "tas-pv"): [core(99)],         # shfl-pv/tas-pv 0.99: not met
        # 2x: shfl-pv 220 = 1.10x native 200 (met), 1.10 of the ceiling
        # (met), p99.9 2000 vs native's 1000 (not met), shares 30/70 of
        # 100 -> min 0.6 (not met)
        (o, "2x", "native"): [run(200, p999=1000)],
        (o, "2x", "shfl-pv"): [core(220, p999=2000, per_thread=(30, 70))],
        (o, "2x", "pvspin"): [run(100, stolen=1, queued=99)],  # 2.2x: met
        # 4x: 95 / 100 = 0.95 of the single-thread ceiling (met)
        (o, "4x", "shfl-pv"): [core(95)],
        # 8x2: median 180 / 200 = 0.90 (met); shuffles in 2 of 3 reps
        # (not met); max wait 1 ms vs native's 3 ms: 1/3 (met)
        (o, "8x2", "native"): [run(150, max_ns=3 * 10**6)],
        (o, "8x2", "shfl-pv"): [core(170, shuffles=2), core(180, shuffles=0),
                                core(190, shuffles=1)],
    }
    ceil_runs = {(o, "4x"): [run(90), run(100), run(400)]}
    return runs, ceil_runs


def verdicts(runs, ceil_runs):
    rows = stats.table(runs)[0]
    ceil = compare.ceilings(runs, ceil_runs)
    lock = compare.details(runs, rows, ceil)
    return {what: (got, verdict) for what, got, _, verdict in compare.targets(lock, ceil)}


class Ceilings(unittest.TestCase):
    def test_kinds_and_medians(self):
        runs, ceil_runs = sweep()
        c = compare.ceilings(runs, ceil_runs)
        self.assertEqual(c["overcommit", "2x"], {"kind": compare.NATIVE_1X, "ops": 200, "n": 3})
        self.assertEqual(c["overcommit", "8x2"]["ops"], 200)
        self.assertEqual(c["overcommit", "1x"]["ops"], 200)
        self.assertEqual(c["overcommit", "4x"], {"kind": compare.ONE_THREAD, "ops": 100, "n": 3,
                                                 "reps": {1: 90, 2: 100, 3: 400}})

    def test_same_guest_ceiling_on_two_threads(self):
        # 8x2 measured its own ceiling on 2 threads, one run per rep:
        # each rep is held against its own run, not the 1x guest's 200.
        runs, _ = sweep()
        ceil_runs = {("overcommit", "8x2"): [run(340, threads=2), run(200, threads=2),
                                             run(380, threads=2)]}
        c = compare.ceilings(runs, ceil_runs)
        self.assertEqual(c["overcommit", "8x2"]["kind"], "2 threads")
        self.assertEqual(c["overcommit", "8x2"]["ops"], 340)
        self.assertEqual(c["overcommit", "8x2"]["reps"], {1: 340, 2: 200, 3: 380})
        self.assertEqual(c["overcommit", "8x2"]["native_1x"], 200)
        # 2x measured none: the 1x guest's native median, as before
        self.assertEqual(c["overcommit", "2x"]["kind"], compare.NATIVE_1X)
        v = verdicts(runs, ceil_runs)
        # 180 / 340 = 0.53; per rep 170/340 0.5, 180/200 0.9, 190/380 0.5
        self.assertEqual(v["8x2: shfl-pv / 1x ceiling"],
                         ("0.53", "NOT reached (1 of 3 reps meet it)"))
        text = "\n".join(render.lock_text(c, []))
        self.assertIn("2 threads        340 ops/s  (n=3)  (the 1x guest's native: 200)", text)

    def test_failed_runs_leave_the_others_paired(self):
        # Ceiling run of rep 2 failed (no line) and tas-pv's rep 1: each
        # remaining run is held against its own rep's, by "rep".
        o = "overcommit"
        runs = {(o, "1x", "native"): [run(200)],
                (o, "8x2", "native"): [run(100, rep=r) for r in (1, 2, 3)],
                (o, "8x2", "shfl-pv"): [core(170, rep=1), core(180, rep=2), core(190, rep=3)],
                (o, "8x2", "tas-pv"): [core(185, rep=2), core(185, rep=3)]}
        ceil_runs = {(o, "8x2"): [run(340, threads=2, rep=1), run(380, threads=2, rep=3)]}
        rows = stats.table(runs)[0]
        ceil = compare.ceilings(runs, ceil_runs)
        d = {(x["config"], x["policy"]): x for x in compare.details(runs, rows, ceil)}
        each = d["8x2", "shfl-pv"]["reps"]["vs_ceiling"]
        self.assertAlmostEqual(each[0], 0.5)
        self.assertTrue(math.isnan(each[1]))    # its ceiling run failed
        self.assertAlmostEqual(each[2], 0.5)
        v = {w: (g, x) for w, g, _, x in compare.targets(list(d.values()), ceil)}
        # shfl-pv / tas-pv paired by rep: 180/185 < 1, 190/185 > 1 (by
        # position it would be 170/185 and 180/185, neither)
        self.assertEqual(v["overcommit 8x2: shfl-pv / tas-pv throughput"][1],
                         "NOT reached (1 of 2 reps meet it)")

    def test_same_workload_and_missing(self):
        runs = {("overcommit", "1x/long", "native"): [run(50)],
                ("overcommit", "2x/long", "native"): [run(40)],
                ("noisy", "1x", "native"): [run(30)]}
        c = compare.ceilings(runs, {})
        self.assertEqual(c["overcommit", "2x/long"]["ops"], 50)
        # no overcommit 1x with the short workload in this run
        self.assertTrue(math.isnan(c["noisy", "1x"]["ops"]))
        self.assertEqual(c["noisy", "1x"]["n"], 0)


class Ratios(unittest.TestCase):
    def test_vs_native_and_vs_1x(self):
        runs = {("overcommit", "1x", "shfl-pv"): [core(100)],
                ("overcommit", "1x/long", "shfl-pv"): [core(10)],
                ("overcommit", "2x/long", "native"): [run(4)],
                ("overcommit", "2x/long", "shfl-pv"): [core(8)]}
        row = {(r["config"], r["policy"]): r for r in stats.table(runs)[0]}
        # against 1x/long (10), not 1x with the short workload (100)
        self.assertAlmostEqual(row["2x/long", "shfl-pv"]["vs_1x"], 0.8)
        self.assertAlmostEqual(row["2x/long", "shfl-pv"]["vs_native"], 2.0)
        self.assertTrue(math.isnan(row["1x", "shfl-pv"]["vs_native"]))

    def test_shares(self):
        self.assertEqual(compare.shares(run(1, per_thread=(10, 30, 20))), (0.5, 1.5))
        self.assertEqual(compare.shares({"acquisitions": 0, "per_thread": []}), (None, None))

    def test_details(self):
        runs, ceil_runs = sweep()
        rows = stats.table(runs)[0]
        ceil = compare.ceilings(runs, ceil_runs)
        d = {(x["config"], x["policy"]): x for x in compare.details(runs, rows, ceil)}
        self.assertAlmostEqual(d["2x", "shfl-pv"]["vs_ceiling"], 1.10)
        self.assertAlmostEqual(d["4x", "shfl-pv"]["vs_ceiling"], 0.95)
        self.assertAlmostEqual(d["8x2", "shfl-pv"]["vs_ceiling"], 0.90)
        self.assertAlmostEqual(d["2x", "shfl-pv"]["min_share"], 0.6)
        self.assertAlmostEqual(d["2x", "shfl-pv"]["max_share"], 1.4)
        self.assertAlmostEqual(d["2x", "shfl-pv"]["p999_us"], 2.0)
        self.assertAlmostEqual(d["8x2", "native"]["max_ms"], 3.0)
        # 100 acquisitions: 60 stolen, 5 halts -> 600 and 50 per 1000
        self.assertAlmostEqual(d["2x", "shfl-pv"]["stolen_k"], 600)
        self.assertAlmostEqual(d["2x", "shfl-pv"]["halts_k"], 50)
        # shuffles 20, 0, 10 per 1000: median 10
        self.assertAlmostEqual(d["8x2", "shfl-pv"]["shuffles_k"], 10)
        self.assertEqual(d["8x2", "shfl-pv"]["shuffle_reps"], 2)
        # the core counts no event of native's
        self.assertTrue(math.isnan(d["2x", "native"]["stolen_k"]))


class Targets(unittest.TestCase):
    def test_shown_agrees_with_verdict(self):
        # 0.996 of tas-pv is short of ">= 1.0": not printed as 1.00
        self.assertEqual(compare.shown(0.9963, 2, compare.AT_LEAST, 1.0), "0.996")
        self.assertEqual(compare.shown(0.99996, 2, compare.AT_LEAST, 1.0), "0.99996")
        self.assertEqual(compare.shown(0.3334, 2, compare.AT_MOST, 1 / 3), "0.3334")
        self.assertEqual(compare.shown(1.456, 2, compare.AT_LEAST, 1.1), "1.46")

    def test_verdicts(self):
        v = verdicts(*sweep())
        want = {
            "2x: shfl-pv / native throughput": ("1.10", "reached"),
            "2x: shfl-pv / 1x ceiling": ("1.10", "reached"),
            "2x: shfl-pv p99.9 wait / native's": ("2.00", "NOT reached"),
            "2x: shfl-pv min per-thread share of fair": ("0.60", "NOT reached"),
            "4x: shfl-pv / single-thread ceiling": ("0.95", "reached"),
            # 170, 180, 190 against the 1x median 200: each >= 0.85
            "8x2: shfl-pv / 1x ceiling": ("0.90", "reached (3 of 3 reps meet it)"),
            "8x2: shfl-pv repetitions with shuffles": ("2/3", "NOT reached"),
            "8x2: shfl-pv max wait / native's": ("0.33", "reached"),
            "2x: shfl-pv / pvspin throughput": ("2.20", "reached"),
            "4x: shfl-pv / pvspin throughput": ("-", "not measured"),
            "overcommit 1x: shfl-pv / tas-pv throughput": ("0.99", "NOT reached"),
            "1x: shfl-pv / shfl throughput": ("0.980", "reached"),
            "noisy 1x (time slices): shfl-quota / shfl-pv": ("-", "not measured"),
            "mutual-exclusion violations, all runs": ("0", "reached"),
        }
        for what, (got, verdict) in want.items():
            self.assertEqual(v[what], (got, verdict), what)

    def test_reps_pair_by_repetition(self):
        """A ratio of two policies pairs the runs of one repetition, not
        the sorted figures: native 100 then 300, shfl-pv 320 then 110 is
        3.2x and 0.37x (sorted, it would be 1.1x and 1.07x)."""
        o = "overcommit"
        runs = {(o, "2x", "native"): [run(100), run(300)],
                (o, "2x", "shfl-pv"): [core(320), core(110)]}
        v = verdicts(runs, {})
        self.assertEqual(v["2x: shfl-pv / native throughput"], ("1.07", "NOT reached (1 of 2 reps meet it)"))

    def test_rep_meets_its_own_single_thread_ceiling(self):
        """On one host CPU each repetition is held against its own
        single-thread run (same guest, interleaved): 95 against 90, 100,
        400 is 1.06, 0.95, 0.24 -> 2 of 3, where the median 100 would
        have made it 3 of 3."""
        o = "overcommit"
        runs = {(o, "4x", "shfl-pv"): [core(95), core(95), core(95)]}
        v = verdicts(runs, {(o, "4x"): [run(90), run(100), run(400)]})
        self.assertEqual(v["4x: shfl-pv / single-thread ceiling"], ("0.95", "reached (2 of 3 reps meet it)"))

    def test_4x_needs_its_own_ceiling(self):
        # Without single-thread runs 4x would fall back to 1x native's
        # figure, which is not its ceiling: not measured, not a verdict.
        runs, _ = sweep()
        v = verdicts(runs, {})
        self.assertEqual(v["4x: shfl-pv / single-thread ceiling"], ("-", "not measured"))

    def test_violation_and_no_shuffles(self):
        runs, ceil_runs = sweep()
        runs["overcommit", "2x", "pvspin"] = [run(100, violations=3)]
        runs["overcommit", "8x2", "shfl-pv"] = [core(180, shuffles=1)]
        v = verdicts(runs, ceil_runs)
        self.assertEqual(v["mutual-exclusion violations, all runs"], ("3", "NOT reached"))
        self.assertEqual(v["8x2: shfl-pv repetitions with shuffles"], ("1/1", "reached"))


def takeover_lines(o="overcommit"):
    """The takeover part of a sweep at 2x: hackbench (s, lower is better)
    native 1.0, 1.2, 1.1 -> median 1.1, on 0.8, 1.0 -> 0.9: 1.1 / 0.9 =
    1.22; msg (ops/s) native 1000, 3000 -> 2000, on 2500: 1.25; futex
    native 400, on 300: 0.75; one unreadable futex run (null) is left
    out; halts count only with the takeover on (3 + 4 for hackbench).
    hackbench's waiting with the takeover on: 100 us of which 30 preempted
    and 20 on a host CPU (on-cpu 0.2, halted 0.5), then 200, 20, 60 (0.3,
    0.6): medians 0.25 and 0.55; the native runs' counts (the takeover
    removed) are not its own; msg waited 0 us: no split."""
    def tk(a, rep, w, v, unit, halts=0, wait=None):
        d = {"scenario": o, "config": "2x", "takeover": a, "rep": rep,
             "workload": w, "value": v, "unit": unit, "halts": halts}
        if wait:
            d.update(zip(("wait_us", "steal_us", "oncpu_us"), wait))
        return d
    return [tk(0, 1, "hackbench", 1.0, "s", 9, (500, 0, 500)),
            tk(1, 1, "hackbench", 0.8, "s", 3, (100, 30, 20)),
            tk(0, 2, "hackbench", 1.2, "s"), tk(1, 2, "hackbench", 1.0, "s", 4, (200, 20, 60)),
            tk(0, 3, "hackbench", 1.1, "s"),
            tk(0, 1, "msg", 1000, "ops/s"), tk(0, 2, "msg", 3000, "ops/s"),
            tk(1, 1, "msg", 2500, "ops/s", 1, (0, 0, 0)),
            tk(0, 1, "futex", 400, "ops/s"), tk(1, 1, "futex", 300, "ops/s"),
            tk(1, 2, "futex", None, "ops/s")]


def write_jsonl(path, objs):
    with open(path, "w") as f:
        for d in objs:
            f.write(json.dumps(d) + "\n")


class Takeover(unittest.TestCase):
    def table(self, objs):
        with tempfile.TemporaryDirectory() as out:
            write_jsonl(os.path.join(out, "takeover.jsonl"), objs)
            return stats.takeover_table(load.load_takeover(out))

    def test_ratios_per_unit(self):
        tk = self.table(takeover_lines())
        o = "overcommit"
        hb, msg, futex = tk[o, "2x", "hackbench"], tk[o, "2x", "msg"], tk[o, "2x", "futex"]
        self.assertAlmostEqual(hb["off"], 1.1)
        self.assertAlmostEqual(hb["on"], 0.9)
        self.assertAlmostEqual(hb["ratio"], 1.1 / 0.9)
        self.assertEqual((hb["unit"], hb["halts"], hb["n"]), ("s", 7, 2))
        self.assertAlmostEqual(msg["ratio"], 1.25)
        self.assertEqual((msg["unit"], msg["halts"], msg["n"]), ("ops/s", 1, 1))
        self.assertAlmostEqual(hb["oncpu"], 0.25)
        self.assertAlmostEqual(hb["halted"], 0.55)
        self.assertEqual((msg["oncpu"], msg["halted"]), (None, None))
        self.assertAlmostEqual(futex["ratio"], 0.75)
        self.assertEqual(futex["n"], 1)

    def test_older_sweeps_hackbench_only(self):
        old = [{"scenario": "noisy", "config": "1x", "takeover": a, "rep": 1,
                "hackbench_s": t, "halts": 2} for a, t in ((0, 2.0), (1, 2.5))]
        tk = self.table(old)
        self.assertEqual(list(tk), [("noisy", "1x", "hackbench")])
        self.assertAlmostEqual(tk["noisy", "1x", "hackbench"]["ratio"], 0.8)
        self.assertEqual(tk["noisy", "1x", "hackbench"]["halts"], 2)

    def test_none_without_file(self):
        with tempfile.TemporaryDirectory() as out:
            self.assertIsNone(load.load_takeover(out))
        self.assertEqual(stats.takeover_table(None), {})

    def test_printed(self):
        words = [x.split() for x in render.takeover_lines(self.table(takeover_lines()))]
        self.assertIn(["overcommit", "2x", "msg", "native", "2000", "ops/s", "takeover", "2500",
                       "ops/s", "throughput", "takeover/native", "1.25", "halts", "1",
                       "waiting", "on-cpu", "-", "halted/blocked", "-", "(n=1)"],
                      words)
        self.assertIn(["overcommit", "2x", "hackbench", "native", "1.100", "s", "takeover",
                       "0.900", "s", "throughput", "takeover/native", "1.22", "halts", "7",
                       "waiting", "on-cpu", "25%", "halted/blocked", "55%", "(n=2)"], words)


class UserspaceCeiling(unittest.TestCase):
    """libpvlock's bench: on 4x, one thread (variant "one") is the ceiling."""

    def runs(self):
        ops = {"glibc": 100, "guest": 50, "both": 110, "one": 130}
        return {("4x", w, v): [float(x)] for w in ("micro", "sysbench-threads")
                for v, x in ops.items()}

    def test_vs_one(self):
        rows, _ = userspace.table(self.runs())
        got = {(r["workload"], r["variant"]): r["vs_one"] for r in rows}
        self.assertAlmostEqual(got["micro", "both"], 110 / 130)
        self.assertIsNone(got["micro", "one"])

    def test_target_above_the_ceiling_is_named(self):
        _, med = userspace.table(self.runs())
        verdicts = {what: v for what, _, _, v in userspace.targets(med, 0)}
        # micro wants 1.5x glibc; one thread does 1.30x: above the ceiling
        self.assertEqual(verdicts["4x (4 vCPUs on 1 CPU): both / glibc, micro"],
                         "MISSED (above the ceiling: one thread does 1.30x)")
        # sysbench threads wants 1.2x and gets 1.1x, under a 1.3x ceiling
        self.assertEqual(verdicts["4x (4 vCPUs on 1 CPU): both / glibc, sysbench-threads"],
                         "MISSED")

    def test_no_ceiling_off_one_cpu(self):
        runs = {("2x", "micro", v): [x] for v, x in (("glibc", 100.0), ("one", 200.0))}
        rows, _ = userspace.table(runs)
        self.assertTrue(all(r["vs_one"] is None for r in rows))


class UserspaceSpinlock(unittest.TestCase):
    """micro-spin (pthread spinlocks) is not one of issue 19's workloads:
    its 1x bound is listed only when it ran, and its rows order after
    micro's."""

    def test_1x_bound_only_when_measured(self):
        runs = {("1x", "micro", v): [x] for v, x in (("glibc", 100.0), ("both", 99.0))}
        whats = [what for what, _, _, _ in userspace.targets(userspace.table(runs)[1], 0)]
        self.assertNotIn("1x (2 vCPUs on 2 CPUs): both / glibc, micro-spin", whats)
        runs.update({("1x", "micro-spin", v): [x] for v, x in (("glibc", 100.0), ("both", 96.0))})
        verdicts = {w: (g, v) for w, g, _, v in userspace.targets(userspace.table(runs)[1], 0)}
        self.assertEqual(verdicts["1x (2 vCPUs on 2 CPUs): both / glibc, micro-spin"],
                         ("0.96x", "MISSED"))
        rows, _ = userspace.table(runs)
        self.assertEqual([r["workload"] for r in rows][::2], ["micro", "micro-spin"])


class UserspacePaired(unittest.TestCase):
    """A target's verdict says in how many reps the paired ratio (both
    and glibc of the same rep) meets it: the medians alone cannot tell
    a steady gain from one carried by a lucky rep."""

    def write(self, out, rows):
        write_jsonl(os.path.join(out, "userspace.jsonl"),
                    [{"config": "1x", "workload": "micro", "variant": v, "rep": rep,
                      "ops_per_s": x} for rep, v, x in rows])

    def verdict(self, rows):
        with tempfile.TemporaryDirectory() as out:
            self.write(out, rows)
            runs, viol, reps = userspace.load(out)
        _, med = userspace.table(runs)
        return {w: v for w, _, _, v in userspace.targets(med, viol, reps)}[
            "1x (2 vCPUs on 2 CPUs): both / glibc, micro"]

    def test_pairs_by_rep(self):
        # medians 100 and 100: met; but rep by rep, both is 0.5x, 1.5x, 1.0x
        rows = [(1, "glibc", 200.0), (1, "both", 100.0), (2, "glibc", 100.0),
                (2, "both", 150.0), (3, "glibc", 50.0), (3, "both", 50.0)]
        self.assertEqual(self.verdict(rows), "met (2 of 3 reps meet it)")

    def test_missed_in_every_rep(self):
        rows = [(r, v, x) for r in (1, 2) for v, x in (("glibc", 100.0), ("both", 90.0))]
        self.assertEqual(self.verdict(rows), "MISSED (0 of 2 reps meet it)")

    def test_unpaired_reps_are_left_out(self):
        # rep 2 lost its glibc run: one pair, too few to count
        rows = [(1, "glibc", 100.0), (1, "both", 100.0), (2, "both", 100.0)]
        self.assertEqual(self.verdict(rows), "met")


def write_sweep(out):
    """A directory of raw results, as bench/vcpu_oversub.sh leaves it."""
    runs, ceil_runs = sweep()
    with open(os.path.join(out, "results.jsonl"), "w") as f:
        for (s, c, p), rs in runs.items():
            for r in rs:
                r = dict(r, scenario=s, config=c, policy=p, vcpus=2, cs_ns=1000,
                         ncs_ns=1000, duration_ms=1000, locks=1, holder_preempted=0,
                         halts=r.get("halts", 0), kicks=r.get("kicks", 0),
                         shuffles=r.get("shuffles", 0))
                f.write(json.dumps(r) + "\n")
    with open(os.path.join(out, "ceiling.jsonl"), "w") as f:
        for (s, c), rs in ceil_runs.items():
            for r in rs:
                f.write(json.dumps(dict(r, scenario=s, config=c, policy="native")) + "\n")
    write_jsonl(os.path.join(out, "takeover.jsonl"), takeover_lines())


def run_report(out):
    # no gnuplot wanted: an empty PATH but python's own directory
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    return subprocess.run([sys.executable, os.path.join(BENCH, "oversub_report.py"), out],
                          capture_output=True, text=True, env=env)


class Report(unittest.TestCase):
    def test_printed_tables(self):
        """oversub_report.py on a directory of raw results: the ceiling
        lines, a row against the ceiling and a target as printed."""
        with tempfile.TemporaryDirectory() as out:
            write_sweep(out)
            p = run_report(out)
            self.assertEqual(p.returncode, 0, p.stderr)
            text = p.stdout.splitlines()
            with open(os.path.join(out, "summary.txt")) as f:
                self.assertEqual(f.read().splitlines(), text[:-1])
            with open(os.path.join(out, "summary.md")) as f:
                md = f.read()
        words = [line.split() for line in text]
        self.assertIn(["overcommit", "4x", "one", "thread", "100", "ops/s", "(n=3)"], words)
        self.assertIn(["overcommit", "8x2", "1x", "native", "200", "ops/s", "(n=3)"], words)
        # against the ceiling: scenario config policy vs-ceiling p99.9 max
        # min-share max-share bypass steals/k queued/k halts/k kicks/k shuffles/k
        self.assertIn(["overcommit", "2x", "shfl-pv", "1.10", "2.0", "1.00", "0.60", "1.40",
                       "7", "600.0", "400.0", "50.0", "40.0", "0.0"], words)
        self.assertIn(["overcommit", "2x", "native", "1.00", "1.0", "1.00", "1.00", "1.00",
                       "7", "-", "-", "-", "-", "-"], words)
        self.assertTrue(any(line.startswith("  8x2: shfl-pv repetitions with shuffles")
                            and line.endswith("2/3  (target all): NOT reached") for line in text))
        self.assertIn("| 4x: shfl-pv / single-thread ceiling | 0.95 | >= 0.9 | reached |", md)
        self.assertIn(["overcommit", "2x", "futex", "native", "400", "ops/s", "takeover", "300",
                       "ops/s", "throughput", "takeover/native", "0.75", "halts", "0",
                       "waiting", "on-cpu", "-", "halted/blocked", "-", "(n=1)"],
                      words)
        self.assertIn("| overcommit | 2x | msg | 2000 ops/s | 2500 ops/s | 1.25 | 1 | - | - | 1 |",
                      md)
        self.assertIn("| overcommit | 2x | hackbench | 1.100 s | 0.900 s | 1.22 | 7 | 25% | 55% | 2 |",
                      md)

    PLE_HEAD = "guests ran with an emulated pause-loop exit after"

    def test_pause_loop_exit_said(self):
        """A run with --pause-loop-exit says so above its tables; one
        without (no file: older runs too) says nothing of it."""
        with tempfile.TemporaryDirectory() as out:
            write_sweep(out)
            p = run_report(out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn(self.PLE_HEAD, p.stdout)
            with open(os.path.join(out, "pause-loop-exit"), "w") as f:
                f.write("0\n")
            p = run_report(out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn(self.PLE_HEAD, p.stdout)
            with open(os.path.join(out, "pause-loop-exit"), "w") as f:
                f.write("2000\n")
            p = run_report(out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(p.stdout.startswith(self.PLE_HEAD + " 2000 ns"), p.stdout[:200])
            with open(os.path.join(out, "summary.md")) as f:
                self.assertTrue(f.read().startswith("> " + self.PLE_HEAD + " 2000 ns"))

    def test_pause_loop_exit_garbage(self):
        """A garbled record of it is an error that names the file, not a
        run reported as made without one."""
        with tempfile.TemporaryDirectory() as out:
            write_sweep(out)
            with open(os.path.join(out, "pause-loop-exit"), "w") as f:
                f.write("fast\n")
            p = run_report(out)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("pause-loop-exit should hold a number of ns", p.stderr)


if __name__ == "__main__":
    unittest.main()
