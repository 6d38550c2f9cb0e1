"""Tests of parlab's tooling: clean notebooks, one source of truth for the
Python pins, and a notebook runner that fails for real.

Run by `./lab test` with the virtual environment's Python:
    .venv/bin/python -m unittest -v tools/test_lab.py
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab  # noqa: E402
import make_student  # noqa: E402
import nbrun  # noqa: E402
import peers  # noqa: E402  (numpy and numba are imported only when it runs)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tools" / "fixtures"


def parse_requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "tools" / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def parse_environment_yml() -> dict[str, str]:
    pins = {}
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#")[0].rstrip()
        if not stripped:
            continue
        if not line.startswith((" ", "-")):
            in_deps = stripped.startswith("dependencies:")
            continue
        if in_deps:
            m = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)\s*=+\s*([^\s=]+)", stripped)
            if m is None:
                raise AssertionError(f"environment.yml: unpinned dependency {stripped!r}")
            pins[m.group(1).lower()] = m.group(2)
    return pins


class PinsAgree(unittest.TestCase):
    def test_environment_yml_pins_equal_requirements(self):
        req = parse_requirements()
        env = parse_environment_yml()
        self.assertTrue(req, "tools/requirements.txt has no pins")
        for name, version in req.items():
            self.assertIn(name, env, f"{name} is in requirements.txt but not environment.yml")
            self.assertEqual(env[name], version, f"{name}: environment.yml and requirements.txt differ")
        extra = set(env) - set(req) - {"python", "evcxr"}
        self.assertEqual(extra, set(), "packages in environment.yml but not requirements.txt")

    def test_evcxr_pin_matches_setup(self):
        self.assertEqual(parse_environment_yml()["evcxr"], lab.EVCXR_VERSION)


# What a build leaves behind: never to be tracked.
BUILD_OUTPUT = re.compile(
    r"(^|/)(target|__pycache__|\.ipynb_checkpoints|\.venv[^/]*)/"
    r"|\.(o|so|rlib|rmeta|a|d|pyc|dylib|dll|exe)$"
)


class RepositoryHoldsNoBuildOutput(unittest.TestCase):
    def test_no_tracked_file_is_build_output(self):
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        self.assertGreater(len(tracked), 10, "git ls-files listed almost nothing")
        bad = [p for p in tracked if BUILD_OUTPUT.search(p)]
        self.assertEqual(bad, [], f"build output is tracked: {bad[:10]}")

    def test_the_pattern_knows_build_output(self):
        for path in ["tools/fixtures/target/debug/libctx.so", "target/x", "a/b.rlib",
                     "tools/__pycache__/lab.cpython-311.pyc", "x/.venv-peers/bin/python"]:
            self.assertTrue(BUILD_OUTPUT.search(path), path)
        for path in ["src/timing/machine.rs", "tools/fixtures/pass.ipynb", "Cargo.lock",
                     "notebooks/00-setup.ipynb", "src/kernels/targets.rs"]:
            self.assertFalse(BUILD_OUTPUT.search(path), path)


class NotebooksStoredClean(unittest.TestCase):
    def notebooks(self):
        paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
        self.assertTrue(paths, "no notebooks in notebooks/")
        return paths

    def test_no_outputs_or_execution_counts(self):
        for path in self.notebooks():
            nb = json.loads(path.read_text())
            for i, cell in enumerate(nb["cells"], 1):
                if cell["cell_type"] != "code":
                    continue
                self.assertEqual(cell.get("outputs"), [], f"{path.name} cell {i} has outputs; run ./lab strip")
                self.assertIsNone(cell.get("execution_count"), f"{path.name} cell {i} has an execution count; run ./lab strip")

    def test_rust_kernel_and_crate_loaded_by_path(self):
        for path in self.notebooks():
            nb = json.loads(path.read_text())
            self.assertEqual(nb["metadata"]["kernelspec"]["name"], "rust", path.name)
            sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
            deps = [s for s in sources if ":dep parlab" in s]
            self.assertTrue(deps, f"{path.name} never loads parlab")
            self.assertTrue(deps[0].startswith(':dep parlab = { path = ".."'), f"{path.name}: {deps[0]!r}")
            self.assertEqual(sources[0], deps[0], f"{path.name}: the first code cell must load parlab")

    def test_strip_removes_outputs(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "x.ipynb"
            nb = json.loads((FIXTURES / "pass.ipynb").read_text())
            nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
            nb["cells"][1]["execution_count"] = 3
            p.write_text(json.dumps(nb))
            lab.cmd_strip([str(p)])
            cleaned = json.loads(p.read_text())
            self.assertEqual(cleaned["cells"][1]["outputs"], [])
            self.assertIsNone(cleaned["cells"][1]["execution_count"])


class StudentNotebooksInSync(unittest.TestCase):
    def test_every_solution_has_a_student_notebook_in_sync(self):
        solutions = make_student.solutions()
        self.assertTrue(solutions, "no *.solution.ipynb in notebooks/")
        for solution in solutions:
            target, text = make_student.student_of(solution)
            self.assertTrue(target.exists(), f"{target.name} is missing: run python3 tools/make_student.py")
            self.assertEqual(target.read_text(), text,
                             f"{target.name} is out of date: run python3 tools/make_student.py")

    def test_each_solution_has_two_exercises_and_their_checks(self):
        for solution in make_student.solutions():
            nb = json.loads(solution.read_text())
            code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
            regions = sum(s.count("// BEGIN SOLUTION") for s in code)
            checks = sum(s.count("exercise::check_") for s in code)
            self.assertGreaterEqual(regions, 2, f"{solution.name}: fewer than two exercises")
            self.assertGreaterEqual(checks, 2, f"{solution.name}: fewer than two exercise checks")
            student, _ = make_student.student_of(solution)
            self.assertNotIn("END SOLUTION", student.read_text() if student.exists() else "",
                             f"{student.name} still holds a solution")

    def test_markers_are_replaced_by_the_stub(self):
        src = "fn f() -> u32 {\n    // BEGIN SOLUTION: todo!(\"add them\")\n    1 + 1\n    // END SOLUTION\n}"
        self.assertEqual(make_student.strip_code(src, "x"), "fn f() -> u32 {\n    todo!(\"add them\")\n}")
        with self.assertRaises(make_student.MarkerError):
            make_student.strip_code("// BEGIN SOLUTION\nx", "x")

    def test_student_lines_replace_the_region(self):
        src = 'let s = r#"\n// BEGIN SOLUTION\n//| broken(\n//|\n//|     x)\nfixed()\n// END SOLUTION\n"#;'
        self.assertEqual(make_student.strip_code(src, "x"), 'let s = r#"\nbroken(\n\n    x)\n"#;')
        with self.assertRaises(make_student.MarkerError):
            make_student.strip_code("// BEGIN SOLUTION: todo!()\n//| a\n// END SOLUTION", "x")


class RunnerReadsOutputs(unittest.TestCase):
    """cell_failure on recorded outputs, without a kernel."""

    @staticmethod
    def cell(*stderr):
        return {"outputs": [{"output_type": "stream", "name": "stderr", "text": t} for t in stderr]}

    def test_ordinary_stderr_passes(self):
        self.assertIsNone(nbrun.cell_failure(self.cell("Error: looks bad\n", "warning\n"), None))

    def test_a_chart_shown_as_debug_text_fails(self):
        def result(data):
            return {"outputs": [{"output_type": "execute_result", "data": data, "metadata": {}}]}
        debug = result({"text/plain": 'Svg("<svg width=\\"720\\"")'})
        self.assertIn("Debug text", nbrun.cell_failure(debug, None))
        self.assertIn("Debug text", nbrun.cell_failure(result({"text/plain": ["Png { bytes: [137, 80]"]}), None))
        self.assertIsNone(nbrun.cell_failure(result({"text/html": "<svg/>", "text/plain": "Svg(\"x\")"}), None))
        self.assertIsNone(nbrun.cell_failure(result({"text/plain": "512.0"}), None))

    def test_the_question_mark_marker_fails_with_the_error_text(self):
        cell = self.cell("progress\n", "pi needs at least 1 point\n", nbrun.QUESTION_MARK_MARKER + "\n")
        failure = nbrun.cell_failure(cell, {"content": {"status": "ok"}})
        self.assertIsNotNone(failure)
        self.assertTrue(failure.startswith("progress\npi needs at least 1 point\n"), failure)
        self.assertIn("returned Err through `?`", failure)

    def test_the_prelude_is_valid_toml_and_matches_evcxr_generated_call(self):
        import tomllib

        prelude = tomllib.loads(nbrun.EVCXR_TOML)["evcxr"]["prelude"]
        self.assertEqual(prelude, nbrun.PRELUDE)
        self.assertIn('("{}", evcxr_internal_runtime::USER_ERROR_OCCURRED)', prelude)
        self.assertIn(nbrun.QUESTION_MARK_MARKER, prelude)


class PeersCommandLine(unittest.TestCase):
    """tools/peers.py without numpy: options, formatting, the machine line."""

    def test_options(self):
        a = peers.parse_args([])
        self.assertEqual((a.rounds, a.threads, a.quick, a.out), (5, [1, 2], False, None))
        a = peers.parse_args(["--quick", "--threads", "2,1,2", "--out", "x.md"])
        self.assertEqual((a.rounds, a.threads, str(a.out)), (1, [1, 2], "x.md"))
        self.assertLess(a.target_s, peers.parse_args([]).target_s)
        self.assertEqual(peers.parse_args(["--rounds", "3", "--quick"]).rounds, 3)
        for bad in (["--threads", "0"], ["--threads", "a,b"], ["--threads", ""], ["--rounds", "0"],
                    ["--bogus"]):
            with self.assertRaises(SystemExit, msg=bad), contextlib.redirect_stderr(io.StringIO()):
                peers.parse_args(bad)

    def test_calls_and_formats(self):
        self.assertEqual(peers.calls_for(0.02, 0.1), 5)
        self.assertEqual(peers.calls_for(1.0, 0.1), 3)
        self.assertEqual(peers.calls_for(1e-9, 0.1), 5000)
        self.assertEqual([peers.fmt_time(s) for s in (2.5e-5, 2.5e-4, 2.5e-3, 0.025, 2.5, None)],
                         ["25.0 µs", "250 µs", "2.50 ms", "25.0 ms", "2.50 s", "—"])
        self.assertEqual(peers.fmt_ratio(1.234, "numba"), "1.23× (numba)")

    def test_machine_line_from_cpuinfo(self):
        text = "processor\t: 0\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14\n" \
               "cpu cores\t: 2\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 9R14\n"
        m = peers.machine_from_cpuinfo(text)
        self.assertEqual(peers.machine_line(m), "AMD EPYC 9R14 (family 25, model 17), 2 logical CPUs, 2 cores")

    def test_table_ratios_are_speeds_against_the_best_peer_and_the_limit(self):
        t = {("add_f64_4096", 1, peers.RELEASE): [0.020, 0.022, 0.021],
             ("add_f64_4096", 1, peers.NOTEBOOK): [0.030],
             ("add_f64_4096", 1, "numpy"): [0.030],
             ("add_f64_4096", 1, "numba"): [0.025],
             ("limit_add_f64_4096", 1, peers.RELEASE): [0.019],
             ("dot_f64_4096", 1, peers.RELEASE): [0.010],
             ("limit_read_f64_4096", 1, peers.RELEASE): [0.004]}
        rows = {r.split("|")[1].strip() + r.split("|")[2].strip(): r for r in peers.table(t, [1])}
        add = [c.strip() for c in rows["add4096² f64"].split("|")[1:-1]]
        self.assertEqual(add, ["add", "4096² f64", "1", "21.0 ms", "30.0 ms", "30.0 ms", "25.0 ms",
                               "19.0 ms", "1.19× (numba)", "0.90×"])
        dot = [c.strip() for c in rows["dot4096² f64"].split("|")[1:-1]]
        self.assertEqual(dot[7:], ["8.00 ms", "—", "0.80×"])  # twice the read limit
        self.assertIn("worst 9.5%", peers.spread_line(t, 3))


class PeersWorker(unittest.TestCase):
    """examples/peers.rs answers errors as JSON and times a small case.
    Built with the test profile, which `cargo test` has already built."""

    @classmethod
    def setUpClass(cls):
        code = subprocess.call(["cargo", "build", "-q", "--profile", "test", "--example", "peers"], cwd=ROOT)
        if code != 0:
            raise AssertionError("cargo build --profile test --example peers failed")
        cls.exe = ROOT / "target" / "debug" / "examples" / "peers"

    def ask(self, *lines):
        out = subprocess.run([str(self.exe)], input="\n".join(lines) + "\n", capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [json.loads(line) for line in out.stdout.splitlines()]

    def test_bad_input_answers_errors_and_the_worker_goes_on(self):
        answers = self.ask("bogus 1 3", "add_f32_1024 0 3", "add_f32_1024 1 0", "add_f32_1024 x 2",
                           "add_f32_1024", "", "info")
        self.assertIn('unknown case "bogus"', answers[0]["error"])
        self.assertEqual(answers[1]["error"], "thread count must be at least 1, got 0")
        self.assertIn("calls must be at least 1", answers[2]["error"])
        self.assertIn("threads must be a whole number", answers[3]["error"])
        self.assertIn("expected `<case> <threads> <calls>`", answers[4]["error"])
        self.assertIn("matmul_f64_1024", answers[5]["cases"])
        self.assertEqual(len(answers), 6, "an empty line is skipped")

    def test_a_small_case_times_and_computes_what_numpy_would(self):
        timed, check = self.ask("add_f32_1024 2 3", "check add_f32_1024 1", "quit", "info")[:2]
        self.assertEqual(timed["samples"], 3)
        self.assertGreater(timed["median_s"], 0)
        self.assertLessEqual(timed["best_s"], timed["median_s"])

        def f32(v):
            return struct.unpack("f", struct.pack("f", v))[0]

        want = [f32(f32((i % 1000) / 1000.0) + (i % 7 + 1)) for i in check["indices"]]
        self.assertEqual(check["values"], want)


class RunnerRefusesBadInput(unittest.TestCase):
    def test_missing_truncated_and_non_notebook_files_get_one_line_each(self):
        with tempfile.TemporaryDirectory() as d:
            truncated = Path(d) / "truncated.ipynb"
            truncated.write_text((FIXTURES / "pass.ipynb").read_text()[:200])
            text = Path(d) / "notes.ipynb"
            text.write_text('{"cells": "not a list"}')
            missing = Path(d) / "nope.ipynb"
            out = subprocess.run(
                [sys.executable, str(ROOT / "tools" / "nbrun.py"), str(missing), str(truncated),
                 str(text), str(FIXTURES / "pass.ipynb"), "--out", d],
                capture_output=True, text=True, timeout=60,
            )
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertNotIn("Traceback", out.stderr)
        lines = out.stderr.strip().splitlines()
        self.assertEqual(len(lines), 3, out.stderr)
        self.assertIn("nope.ipynb: no such file", lines[0])
        self.assertIn("truncated.ipynb: not a valid notebook", lines[1])
        self.assertIn("notes.ipynb: not a valid notebook", lines[2])


class RunnerFailsForReal(unittest.TestCase):
    """Each case starts a real evcxr kernel."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("evcxr_jupyter") is None and not (lab.CARGO_HOME / "bin" / "evcxr_jupyter").exists():
            raise unittest.SkipTest("evcxr_jupyter is not installed (run ./lab setup)")
        nbrun.evcxr_environment(nbrun.TARGET / "evcxr-tmp-fixtures")

    def run_fixture(self, name):
        return nbrun.run_notebook(FIXTURES / name, out=None, timeout=600)

    def test_passing_notebook_passes(self):
        r = self.run_fixture("pass.ipynb")
        self.assertTrue(r.ok, r.failure)
        self.assertEqual(r.executed, r.cells)
        self.assertEqual(r.cells, 2)

    def test_failing_assert_fails_and_names_the_cell(self):
        r = self.run_fixture("fail_assert.ipynb")
        self.assertFalse(r.ok)
        self.assertIn("fail_assert.ipynb", r.failure)
        self.assertIn("cell 3", r.failure)
        self.assertIn("deliberately wrong", r.failure)
        self.assertEqual(r.executed, 2, "the runner must stop at the failing cell")

    def test_caught_panic_printed_to_stderr_fails(self):
        r = self.run_fixture("fail_caught_panic.ipynb")
        self.assertFalse(r.ok)
        self.assertIn("panicked at", r.failure)
        self.assertIn("caught but reported", r.failure)

    def test_a_failed_exercise_check_fails(self):
        r = self.run_fixture("check_failed.ipynb")
        self.assertFalse(r.ok)
        self.assertIn("exercise 9.1 demo reports 'failed'", r.failure)

    def test_a_solution_notebook_needs_every_check_passed(self):
        r = self.run_fixture("not_done.solution.ipynb")
        self.assertFalse(r.ok)
        self.assertIn("reports 'not-done' in a solution notebook", r.failure)

    def run_fixture_outputs(self, name):
        """The result and the text each executed code cell printed, by stream."""
        import asyncio

        result, nb = asyncio.run(nbrun.execute(FIXTURES / name, 600))
        printed = []
        for cell in nb.cells:
            if cell.cell_type == "code":
                streams = {"stdout": "", "stderr": ""}
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "stream":
                        streams[out["name"]] += out.get("text", "")
                printed.append(streams)
        return result, printed

    def test_err_through_question_mark_fails_and_stops(self):
        r, printed = self.run_fixture_outputs("fail_question_mark.ipynb")
        self.assertFalse(r.ok)
        self.assertIn("fail_question_mark.ipynb, cell 3 (`let n: u32 = \"12x\".parse()?;`) failed", r.failure)
        self.assertIn("invalid digit found in string", r.failure)
        self.assertIn("returned Err through `?`", r.failure)
        self.assertEqual(r.executed, 2, "the runner must stop at the failing cell")
        self.assertNotIn("not reached", printed[1]["stdout"])
        self.assertEqual(printed[2], {"stdout": "", "stderr": ""}, "the cell after it ran")

    def test_ordinary_stderr_and_a_question_mark_that_succeeds_pass(self):
        r, printed = self.run_fixture_outputs("pass_stderr.ipynb")
        self.assertTrue(r.ok, r.failure)
        self.assertEqual(r.executed, r.cells)
        self.assertEqual(r.cells, 3)
        self.assertIn("an ordinary message on stderr", printed[0]["stderr"])
        self.assertIn("invalid digit found in string", printed[0]["stderr"])
        self.assertIn("parsed 42 through ?", printed[1]["stderr"])
        # println! goes through the runner's prelude macro: output unchanged
        self.assertEqual(printed[2]["stdout"], "FORWARDED!\nn = 42\n\n")
        self.assertNotIn(nbrun.QUESTION_MARK_MARKER, "".join(p["stderr"] for p in printed))

    def test_compile_error_fails(self):
        r = self.run_fixture("fail_compile.ipynb")
        self.assertFalse(r.ok)
        self.assertIn("cell 2", r.failure)
        self.assertIn("mismatched types", r.failure)



class Pacing(unittest.TestCase):
    def test_stated_times_agree_with_the_estimate(self):
        import pacing
        for path in sorted((ROOT / "notebooks").glob("*.solution.ipynb")):
            r = pacing.estimate(path)
            self.assertIsNotNone(r["stated"], f"{path.name}: no **Time:** line in the first cell")
            lo, hi = r["stated"]
            self.assertTrue(lo - 10 <= r["minutes"] <= hi + 10,
                            f"{path.name} says {lo}–{hi} minutes, tools/pacing.py estimates {r['minutes']:.0f}")

    def test_an_exercise_counts_ten_minutes(self):
        import pacing
        with tempfile.TemporaryDirectory() as d:
            nb = {"cells": [
                {"cell_type": "markdown", "metadata": {}, "source": ["**Time:** 12 minutes\n", "one two three"]},
                {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                 "source": ["exercise::check_x(x)"]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
            path = Path(d) / "x.solution.ipynb"
            path.write_text(json.dumps(nb))
            r = pacing.estimate(path)
            self.assertEqual((r["exercises"], r["code"], r["stated"]), (1, 1, (12, 12)))
            self.assertAlmostEqual(r["minutes"], 6 / 150 + 1 + 10)  # 6 words

if __name__ == "__main__":
    unittest.main()
