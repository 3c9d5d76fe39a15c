#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every shell script of the tree parses: bash -n for bash scripts, sh -n
(and busybox sh -n, the guest image's shell, where installed) for POSIX
sh ones.  A VM test whose guest script is pasted in single quotes breaks
on a stray apostrophe in a comment, and only when the suite reaches it,
twenty minutes into make check (tests/vm/takeover-fallback.sh did); this
finds that in a second.

Run by make check-unit (linked into BUILD/tests/unit as
test_shell_syntax); exit 0 pass, 1 fail."""
import os
import shutil
import subprocess
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
SKIP_DIRS = {".git", "build", "results", "node_modules"}


def shell_of(path):
    """'bash', 'sh', or None for a file that is not a shell script."""
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return None
    if first.startswith(b"#!"):
        interp = first[2:].decode("ascii", "replace").split()
        if not interp:
            return None
        name = os.path.basename(interp[-1] if interp[0].endswith("env") else interp[0])
        return name if name in ("bash", "sh") else None
    # Sourced libraries have no #! line: bash by the tree's convention.
    return "bash" if path.endswith(".sh") else None


def scripts():
    for top, dirs, files in os.walk(SRC):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = os.path.join(top, name)
            shell = shell_of(path)
            if shell:
                yield path, shell


class ShellSyntax(unittest.TestCase):
    def check(self, argv, path):
        r = subprocess.run(argv + [path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "%s does not parse (%s):\n%s" %
                         (os.path.relpath(path, SRC), " ".join(argv), r.stderr))

    def test_every_script_parses(self):
        found = list(scripts())
        # The tree has dozens; a walk that finds none is broken, not clean.
        self.assertGreater(len(found), 50)
        busybox = shutil.which("busybox")
        for path, shell in found:
            with self.subTest(script=os.path.relpath(path, SRC)):
                if shell == "bash":
                    self.check(["bash", "-n"], path)
                else:
                    self.check(["sh", "-n"], path)
                    if busybox:
                        self.check([busybox, "sh", "-n"], path)

    def test_catches_a_stray_apostrophe(self):
        # The failure this test exists for, in miniature.
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write("#!/bin/bash\nout=$(echo '\n# two periods' steal\necho x')\n"
                    "echo \"$out\" | grep 'a (b)' || echo no\n")
        try:
            r = subprocess.run(["bash", "-n", f.name], capture_output=True)
            self.assertNotEqual(r.returncode, 0)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
