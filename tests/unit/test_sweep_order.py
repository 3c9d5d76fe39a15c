#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Unit test of the in-guest sweeps' order (guest/tools/sweep-order.sh,
sourced by pvlock-sweep, pvlock-usweep and the takeover benches' guest
scripts): each repetition runs every policy once, in a new order each
repetition (a Williams design), so that over a period (the list's
length, twice that when it is odd) every policy runs in every place, and
right after every other one, equally often.

Run under the host's /bin/sh and, where installed, busybox sh (the guest
image's shell).  Run by make check-unit (linked into BUILD/tests/unit as
test_sweep_order); exit 0 pass, 1 fail."""
import os
import shutil
import subprocess
import unittest
from collections import Counter

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
LIB = os.path.join(SRC, "guest", "tools", "sweep-order.sh")

SHELLS = [["/bin/sh"]] + ([[shutil.which("busybox"), "sh"]] if shutil.which("busybox") else [])


def call(shell, rep, *words):
    """rep_order REP WORDS... in @shell, the library sourced first."""
    return subprocess.run(shell + ["-c", '. "$0"; rep_order "$@"', LIB, str(rep), *words],
                          capture_output=True, text=True)


def rep_order(shell, rep, *words):
    r = call(shell, rep, *words)
    r.check_returncode()
    return r.stdout.split()


class RepOrder(unittest.TestCase):
    def design(self, sh, words):
        n = len(words)
        period = n if n % 2 == 0 else 2 * n
        return period, [rep_order(sh, r, *words) for r in range(1, period + 1)]

    def test_williams_design(self):
        """Over one period every word runs once per repetition, in every
        place equally often, and right after every other word equally
        often: the three lists of the benches (3, 4 and 7 long) and more."""
        for sh in SHELLS:
            for n in (2, 3, 4, 5, 6, 7, 8, 11):
                words = [f"p{i}" for i in range(n)]
                with self.subTest(shell=sh[0], n=n):
                    period, runs = self.design(sh, words)
                    for order in runs:
                        self.assertEqual(sorted(order), sorted(words))
                    each = period // n
                    for w in words:
                        self.assertEqual(sorted(o.index(w) for o in runs),
                                         sorted(list(range(n)) * each))
                    after = Counter((o[i], o[i + 1]) for o in runs for i in range(n - 1))
                    self.assertEqual(len(after), n * (n - 1))
                    self.assertEqual(set(after.values()), {each})

    def test_repeats_with_its_period(self):
        for sh in SHELLS:
            with self.subTest(shell=sh[0]):
                words = ["native", "tas-pv", "shfl-pv"]
                self.assertEqual(rep_order(sh, 1, *words), words)
                self.assertEqual(rep_order(sh, 7, *words), words)
                self.assertEqual(rep_order(sh, 4, *words), list(reversed(words)))
                self.assertEqual(rep_order(sh, 2, "0", "1"), ["1", "0"])
                self.assertEqual(rep_order(sh, 3, "0", "1"), ["0", "1"])

    def test_short_lists(self):
        for sh in SHELLS:
            with self.subTest(shell=sh[0]):
                self.assertEqual(rep_order(sh, 5, "only"), ["only"])
                self.assertEqual(rep_order(sh, 3), [])
                # Ten and more: positional parameters past $9.
                words = [f"w{i}" for i in range(12)]
                self.assertEqual(sorted(rep_order(sh, 6, *words)), sorted(words))

    def test_no_repetition_is_an_error(self):
        """Repetitions count from 1: 0, a negative or no number is the
        caller's mistake, said on stderr, and yields no order at all."""
        for sh in SHELLS:
            for bad in ("0", "-1", "x", "", "2a"):
                with self.subTest(shell=sh[0], rep=bad):
                    r = call(sh, bad, "a", "b")
                    self.assertEqual(r.returncode, 2)
                    self.assertEqual(r.stdout, "")
                    self.assertIn("is no repetition", r.stderr)


if __name__ == "__main__":
    unittest.main()
