"""Tests of parlab's MPI examples under mpiexec: every example on 1, 2, 3 and 4
ranks with sizes that do not divide by the ranks, verified on rank 0; bad
arguments, a rank that reports an error and a rank that panics all end the
run with the message and a non-zero exit, within a time limit (no hang).

Run by `./lab test` (the `mpi examples` step) when mpiexec is present:
    python3 -m unittest -v tools/test_mpi.py
It builds the examples first (`cargo build --release --features mpi --examples`).
Without MPI every test is skipped with what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["mpi_add", "mpi_sum", "mpi_monte_carlo", "mpi_stencil", "mpi_probe"]
MARKER = "PARLAB_REPORT "
# Seconds a run may take before it counts as a hang (4 ranks oversubscribe
# 2 cores, and other builds may share the machine).
LIMIT = 120

# Sizes that do not divide by 2, 3 or 4, and a case with fewer rows than ranks
# (ranks that own nothing).
CASES = {
    "mpi_add": [["--rows", "1001", "--cols", "997", "--samples", "2"],
                ["--rows", "2", "--cols", "5", "--samples", "1"]],
    "mpi_sum": [["--elements", "100003", "--samples", "2"],
                ["--elements", "5", "--samples", "1"]],
    "mpi_monte_carlo": [["--samples", "300007", "--repeats", "1", "--threads", "2"],
                        ["--samples", "3", "--repeats", "1"]],
    "mpi_stencil": [["--rows", "1001", "--cols", "997", "--steps", "3", "--samples", "1"],
                    ["--rows", "3", "--cols", "4", "--steps", "2", "--samples", "1"]],
    "mpi_probe": [["--max-bytes", "65536", "--samples", "3", "--budget-ms", "5"]],
}

MISSING = shutil.which("mpiexec") is None
WHY = ("mpiexec is not on PATH: install MPI to run these tests "
       "(Debian/Ubuntu, as root: apt-get install mpich libmpich-dev libclang-dev)")


def target_dir() -> Path:
    t = os.environ.get("CARGO_TARGET_DIR")
    if t:
        p = Path(t)
        return p if p.is_absolute() else ROOT / p
    return ROOT / "target"


def binary(name: str) -> Path:
    return target_dir() / "release" / "examples" / name


def mpirun(ranks: int, name: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["mpiexec", "-n", str(ranks), str(binary(name)), *args],
        capture_output=True, text=True, timeout=LIMIT, cwd=ROOT,
    )


def report(out: str) -> dict:
    lines = [l[len(MARKER):] for l in out.splitlines() if l.startswith(MARKER)]
    if len(lines) != 1:
        raise AssertionError(f"expected one report line (rank 0 only), got {len(lines)}:\n{out}")
    return json.loads(lines[0])


@unittest.skipIf(MISSING, WHY)
class MpiExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cmd = ["cargo", "build", "--release", "--features", "mpi"]
        for e in EXAMPLES:
            cmd += ["--example", e]
        subprocess.run(cmd, cwd=ROOT, check=True)

    def test_every_example_verifies_on_1_to_4_ranks(self):
        for name in EXAMPLES:
            for args in CASES[name]:
                for ranks in (1, 2, 3, 4):
                    with self.subTest(example=name, ranks=ranks, args=" ".join(args)):
                        r = mpirun(ranks, name, args)
                        self.assertEqual(r.returncode, 0, f"{r.stdout}\n{r.stderr}")
                        rep = report(r.stdout)
                        self.assertEqual(rep["program"], name)
                        self.assertEqual(rep["ranks"], ranks)
                        self.assertTrue(rep["verified"], rep)
                        self.assertIn("verified:", r.stdout)
                        names = [p["name"] for p in rep["phases"]]
                        self.assertTrue(names, rep)
                        for p in rep["phases"]:
                            self.assertEqual(len(p["per_rank_median"]), ranks, p["name"])
                        if name == "mpi_probe" and ranks >= 2:
                            self.assertTrue(rep["probe"], rep)

    def test_the_sum_has_the_same_bits_on_every_rank_count(self):
        got = set()
        for ranks in (1, 2, 3, 4):
            r = mpirun(ranks, "mpi_sum", ["--elements", "200003", "--samples", "1"])
            self.assertEqual(r.returncode, 0, r.stderr)
            v = report(r.stdout)["values"]
            got.add((v["sum"].hex(), v["dot"].hex()))
        self.assertEqual(len(got), 1, got)

    def test_bad_arguments_stop_every_rank_with_the_message(self):
        for name in EXAMPLES:
            for args, words in [(["--bogus", "1"], "unknown argument"),
                                (["--threads", "x"], "needs a whole number"),
                                (["--samples", "0"], "at least 1")]:
                if name == "mpi_probe" and args[0] == "--threads":
                    args, words = ["--max-bytes", "x"], "needs a whole number"
                with self.subTest(example=name, args=args):
                    r = mpirun(3, name, args)
                    self.assertEqual(r.returncode, 2, f"{r.stdout}\n{r.stderr}")
                    self.assertIn(words, r.stderr)
                    # Printed once (by rank 0), not once per rank.
                    self.assertEqual(r.stderr.count("error:"), 1, r.stderr)

    def test_a_failing_rank_stops_the_run_with_its_message(self):
        for name in EXAMPLES:
            with self.subTest(example=name):
                args = CASES[name][0] + ["--fail-rank", "1"]
                r = mpirun(3, name, args)
                self.assertEqual(r.returncode, 1, f"{r.stdout}\n{r.stderr}")
                self.assertIn("rank 1: a failure injected with --fail-rank 1", r.stderr)
                self.assertNotIn(MARKER, r.stdout)

    def test_a_panicking_rank_aborts_the_job(self):
        for name in EXAMPLES:
            with self.subTest(example=name):
                args = CASES[name][0] + ["--panic-rank", "2"]
                r = mpirun(3, name, args)
                self.assertNotEqual(r.returncode, 0, f"{r.stdout}\n{r.stderr}")
                self.assertIn("rank 2: panicked, aborting every rank", r.stderr)
                self.assertIn("--panic-rank 2", r.stderr)


class LabSkipsMpiNotebooksWithoutMpi(unittest.TestCase):
    """Runs with or without MPI: ./lab's choice of what to run."""

    def test_notebooks_that_need_mpi_are_skipped_with_the_reason(self):
        import contextlib
        import io
        import sys
        import tempfile

        sys.path.insert(0, str(ROOT / "tools"))
        import lab

        with tempfile.TemporaryDirectory() as d:
            plain, mpi = Path(d) / "01-x.ipynb", Path(d) / "08-y.ipynb"
            plain.write_text(json.dumps({"cells": [], "metadata": {}}))
            mpi.write_text(json.dumps({"cells": [], "metadata": {"parlab": {"requires": ["mpi"]}}}))
            self.assertFalse(lab.needs_mpi(plain))
            self.assertTrue(lab.needs_mpi(mpi))
            self.assertEqual(lab.without_mpi_notebooks([plain, mpi], None), [plain, mpi])
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                kept = lab.without_mpi_notebooks([plain, mpi], "mpiexec not found")
            self.assertEqual(kept, [plain])
            self.assertIn("skipping 08-y.ipynb", out.getvalue())
            self.assertIn("mpiexec not found", out.getvalue())

    def test_the_reason_says_what_to_install(self):
        import sys

        sys.path.insert(0, str(ROOT / "tools"))
        import lab

        why = lab.mpi_missing()
        if why is not None:
            self.assertIn("apt-get install mpich libmpich-dev libclang-dev", why)

    def test_notebook_08_declares_that_it_needs_mpi(self):
        import sys

        sys.path.insert(0, str(ROOT / "tools"))
        import lab

        for p in sorted((ROOT / "notebooks").glob("08-*.ipynb")):
            self.assertTrue(lab.needs_mpi(p), p)


if __name__ == "__main__":
    unittest.main()
