"""Tests of parlab's tooling: clean notebooks, one source of truth for the
Python pins, and a notebook runner that fails for real.

Run by `./lab test` with the virtual environment's Python:
    .venv/bin/python -m unittest -v tools/test_lab.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
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
        t = {("add_f64_4096", 1, peers.RELEASE): [0.018],
             ("add_f64_4096", 1, peers.RELEASE_NB): [0.020, 0.022, 0.021],
             ("add_f64_4096", 1, peers.NOTEBOOK): [0.030],
             ("add_f64_4096", 1, "numpy"): [0.030],
             ("add_f64_4096", 1, "numba"): [0.025],
             ("limit_add_f64_4096", 1, peers.RELEASE): [0.019],
             ("limit_add_ordinary_f64_4096", 1, peers.RELEASE): [0.024],
             ("dot_f64_4096", 1, peers.RELEASE_NB): [0.010],
             ("limit_read_f64_4096", 1, peers.RELEASE): [0.004]}
        streams = {"streaming_threshold": 64 << 20}
        rows = {r.split("|")[1].strip() + r.split("|")[2].strip(): r
                for r in peers.table(t, [1], streams)}
        add = [c.strip() for c in rows["add4096² f64"].split("|")[1:-1]]
        self.assertEqual(add, ["add", "4096² f64", "1", "18.0 ms", "21.0 ms", "30.0 ms", "30.0 ms",
                               "25.0 ms", "19.0 ms (streaming stores)", "1.19× (numba)", "0.90×"])
        dot = [c.strip() for c in rows["dot4096² f64"].split("|")[1:-1]]
        self.assertEqual(dot[8:], ["8.00 ms (read)", "—", "0.80×"])  # twice the read limit
        # A kernel that kept ordinary stores at its size is judged against
        # the ordinary-store add.
        never = {"streaming_threshold": 1 << 63}
        rows = {r.split("|")[1].strip() + r.split("|")[2].strip(): r
                for r in peers.table(t, [1], never)}
        add = [c.strip() for c in rows["add4096² f64"].split("|")[1:-1]]
        self.assertEqual(add[8:], ["24.0 ms (ordinary stores)", "1.19× (numba)", "1.14×"])
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

    def test_the_evcxr_cache_is_off_unless_asked_for(self):
        saved = {k: os.environ.get(k) for k in (nbrun.CACHE_ENV, "EVCXR_CONFIG_DIR", "XDG_CACHE_HOME")}
        try:
            os.environ.pop(nbrun.CACHE_ENV, None)
            nbrun.evcxr_environment(nbrun.TARGET / "evcxr-tmp-fixtures")
            off = Path(os.environ["EVCXR_CONFIG_DIR"])
            self.assertFalse((off / "init.evcxr").exists())
            os.environ[nbrun.CACHE_ENV] = "1500"
            nbrun.evcxr_environment(nbrun.TARGET / "evcxr-tmp-fixtures")
            on = Path(os.environ["EVCXR_CONFIG_DIR"])
            self.assertNotEqual(on, off)
            self.assertEqual((on / "init.evcxr").read_text(), ":cache 1500\n")
            self.assertEqual((on / "evcxr.toml").read_text(), (off / "evcxr.toml").read_text())
            self.assertEqual(os.environ["XDG_CACHE_HOME"], str(nbrun.EVCXR_CACHE_HOME))
            os.environ[nbrun.CACHE_ENV] = "lots"
            with self.assertRaises(SystemExit):
                nbrun.evcxr_environment(nbrun.TARGET / "evcxr-tmp-fixtures")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

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



# --- No notebook asserts on anything a benchmark measured or chose -----------------------------
#
# `Bench` decides how many calls to make from how long each takes, and every time, rate or ratio
# differs between CPUs and between runs. An assertion may check results, never those. Found
# statically, per notebook (cells in order), over the code with comments and strings blanked:
#  - names bound (`let`, `for`) from a timing helper (`.run(`, `Compare`, `Instant`, a probe…),
#    from a timing accessor (`.median()`, `.loops`, `…bandwidth…`) or from such a name, and
#    names such values are pushed into;
#  - names accumulated into inside a timed closure (`x += …`, `x.fetch_add(…)`, `x.push(…)`, or
#    `&x` handed to code whose closure does that), unless the closure's first statement resets
#    them (`store(0`, `fill(`, `clear()`, `= 0`): then they hold the last call's work.
# An assert (or `verify::check`) fails when it uses a timing accessor, or such a name other than
# for its structure (a chain ending in `.threads`, `.name`, `.len()`, `.is_ok()`…) or for the error
# of a benchmark that refused to time kernels that disagree.

TIMING_HELPER = re.compile(
    r"\.(?:run|try_run|run_with_setup)\s*\(|\.elapsed\s*\(|\.report\s*\(\s*\)"
    r"|(?<![.\w])(?:bench|try_bench|bench_with_setup|try_bench_with_setup|sweep_threads"
    r"|timer_overhead|time_scale)\s*\(|\bprobe(?:_quick|_with)?\s*\("
    r"|\b(?:Compare|ThreadSweep|SizeSweep|Timeline|Instant|SystemTime|Machine|Baseline|BenchResult"
    r"|Comparison|Scaling|SizeScaling)\b")
# An identifier that is a time, a rate or a ratio wherever it appears…
TIMING_WORD = re.compile(
    r"Duration|Instant|SystemTime|elapsed|as_(?:secs|millis|micros|nanos)\w*|time_scale"
    r"|\w*(?:throughput|bandwidth|gflop|gb_per_s|speedup|efficiency|serial_fraction|amdahl"
    r"|seconds|secs|peak_fraction)\w*|(?:\w+_)?ratio(?:_\w+)?", re.I)
# …and fields or methods (after a `.`) that are.
TIMING_FIELD = {
    "median", "median_ci", "median_duration", "std_dev", "iqr", "summary", "samples", "loops",
    "calls", "warmup_calls", "timer_overhead", "noise_warning", "contention", "probe_seconds",
    "total_s",
}
# A measured value's structure, not its numbers: what a chain may end in.
STRUCTURE = {"threads", "name", "names", "cpu_model", "simd", "caches", "sizes",
             "len", "is_empty", "is_ok", "is_err", "is_some", "is_none"}
# Sizes picked from the probe: a workload sized by them is still a workload whose result can be
# checked (names bound from them stay clean), but an assert on the size itself is on a measurement.
PROBED_SIZE = {"memory_from_bytes", "llc_bytes", "array_bytes", "streaming_threshold"}
# A benchmark that refused to time (its kernels disagreed) measured nothing: its error is a result.
ERROR_OF_A_REFUSAL = {"unwrap_err", "expect_err", "err"}
TIMED_CALL = re.compile(r"(?:\.(?:run|try_run|run_with_setup|kernel|kernel_into)"
                        r"|(?<![.\w])(?:bench|try_bench|bench_with_setup|try_bench_with_setup|sweep_threads))\s*\(")
ASSERT = re.compile(r"\b(?:debug_)?assert(?:_eq|_ne)?!\s*\(|(?<![\w:])(?:parlab::)?(?:verify::)?check\s*\(")
ACCUMULATE = re.compile(
    r"\b([A-Za-z_]\w*)(?:\s*\.\s*\w+(?:\(\s*\))?)*\s*\.\s*"
    r"(?:fetch_\w+|compare_exchange\w*|push|push_str|extend|insert|append)\s*\("
    r"|\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*(?:[+\-*/%^|&]|<<|>>)=(?!=)")
RESET = re.compile(r"\.store\(\s*0\b|\.fill\(|\.clear\(\s*\)|(?<![=!<>])=\s*0(?:\.0)?\b|\breset")
IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
KEYWORDS = {"mut", "ref", "let", "in", "for", "if", "else", "move", "return", "as", "fn", "true",
            "false", "match", "while", "loop", "Some", "None", "Ok", "Err", "self", "_"}


def rust_code(src: str) -> str:
    """`src` with comments, string and char literals and evcxr's `:` commands blanked (the same
    length, newlines kept), so that brackets and names can be counted."""
    literal = re.compile(r"//[^\n]*|/\*.*?\*/|b?r(#*)\".*?\"\1|b?\"(?:\\.|[^\"\\])*\""
                         r"|b?'(?:\\.|\\u\{[0-9a-fA-F]+\}|[^'\\])'", re.S)
    out, i = [], 0
    while i < len(src):
        m = literal.match(src, i)
        if m and not (src[i] in "rb" and i > 0 and (src[i - 1].isalnum() or src[i - 1] == "_")):
            out.append(re.sub(r"[^\n]", " ", m.group(0)))
            i = m.end()
        else:
            out.append(src[i])
            i += 1
    return re.sub(r"(?m)^:.*$", lambda m: " " * len(m.group(0)), "".join(out))


def close_of(code: str, i: int) -> int:
    """Index just past the bracket that closes the one at `code[i]`."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] in "([{":
            depth += 1
        elif code[j] in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


def end_of(code: str, i: int, stop: str = ";") -> int:
    """Index of the first `stop` character at bracket depth 0 from `i`, or of the bracket that
    closes the enclosing one."""
    j = i
    while j < len(code):
        if code[j] in "([{" and code[j] not in stop:
            j = close_of(code, j)
            continue
        if code[j] in stop or code[j] in ")]}":
            return j
        j += 1
    return j


def chain_after(code: str, j: int) -> list[str]:
    """The fields and methods used on the value that ends at `j`: `x[0].a(1)?.b` → [a, b]."""
    names = []
    while m := re.compile(r"\s*(\?|\.\s*([A-Za-z_]\w*)|::<|\[|\()").match(code, j):
        token, j = m.group(1), m.end()
        if token == "(" and not names:
            break  # `f(…)`: a call of the name itself, which returns what it computed
        if m.group(2):
            names.append(m.group(2))
        elif token in ("(", "["):
            j = close_of(code, m.end() - 1)
        elif token == "::<":
            j = code.index(">", j) + 1
    return names


def bound_names(pattern: str) -> set[str]:
    """The names a `let` or `for` pattern binds (a `: Type` annotation left out)."""
    cut = end_of(pattern, 0, ":")
    return {w for w in IDENT.findall(pattern[:cut]) if w not in KEYWORDS and not w[0].isupper()}


def timing_uses(code: str, start: int, end: int, tainted: dict[str, str], sizing: bool = False) -> list[str]:
    """Why `code[start:end]` depends on a measurement (empty: it does not); `sizing`: it may use
    the sizes the probe picked."""
    why = []
    for m in IDENT.finditer(code, start, end):
        word, before = m.group(0), code[max(0, m.start() - 2):m.start()]
        if before.endswith("::") or code[m.end():m.end() + 1] == "!":
            continue
        if before.rstrip().endswith(".") and not before.endswith(".."):
            if word in TIMING_FIELD or TIMING_WORD.fullmatch(word):
                why.append(f"`.{word}`, a measurement")
            continue
        if TIMING_WORD.fullmatch(word):
            why.append(f"`{word}`, a time or a rate")
        elif word in tainted:
            chain = chain_after(code, m.end())
            allowed = STRUCTURE | PROBED_SIZE if sizing else STRUCTURE
            if not (chain and chain[-1] in allowed or ERROR_OF_A_REFUSAL & set(chain)):
                why.append(f"`{word}`, {tainted[word]}")
    return why


def mutated_in_timed_closure(code: str, start: int, end: int) -> set[str]:
    """Names from outside that the timed call's arguments `code[start:end]` accumulate into."""
    args = code[start:end]
    params = set()
    for m in re.finditer(r"\|([^|]*)\|", args):
        params |= bound_names(m.group(1).replace(":", " "))
    local = {w for m in re.finditer(r"\blet\s+([^=;]*)=", args) for w in bound_names(m.group(1))}
    hit, through_params = set(), False
    for m in ACCUMULATE.finditer(args):
        root = m.group(1) or m.group(2)
        if root in params:
            through_params = True  # e.g. |c| c.fetch_add(1, …): acts on whatever was lent in
        elif root not in local:
            hit.add(root)
    if through_params:
        hit |= {w for w in re.findall(r"&\s*(?:mut\s+)?([a-z_]\w*)", args) if w not in params | local}
    body = re.search(r"\|[^|]*\|\s*", args)  # the timed closure's body
    if body:
        first = args[body.end():]
        first = first[1:end_of(first, 1)] if first.startswith("{") else first[:end_of(first, 0)]
        hit -= {w for w in hit if re.search(rf"\b{w}\b", first) and RESET.search(first)}
    return hit - {"self"}


def timing_asserts(cells: list[str]) -> list[str]:
    """Each assert in the notebook's code `cells` that depends on a measurement, and why."""
    sources = [rust_code(c) for c in cells]
    code = "\n".join(sources)
    starts = [sum(len(s) + 1 for s in sources[:k]) for k in range(len(sources))]
    cell_at = lambda pos: max(k for k, s in enumerate(starts) if s <= pos) + 1  # noqa: E731
    events = []  # (position, kind, data), handled in order
    for m in re.finditer(r"\blet\b", code):
        eq = re.compile(r"(?<![=!<>])=(?![=>])").search(code, m.end())
        if eq and ";" not in code[m.end():eq.start()]:
            stop = end_of(code, eq.end())
            events.append((stop, "bind", (bound_names(code[m.end():eq.start()]), eq.end(), stop)))
    for m in re.finditer(r"\bfor\b([^{};]*?)\bin\b", code):
        stop = end_of(code, m.end(), "{;")
        events.append((stop, "bind", (bound_names(m.group(1)), m.end(), stop)))
    for m in ACCUMULATE.finditer(code):
        stop = close_of(code, m.end() - 1) if m.group(1) else end_of(code, m.end())
        events.append((stop, "grow", (m.group(1) or m.group(2), m.end(), stop)))
    for m in TIMED_CALL.finditer(code):
        stop = close_of(code, m.end() - 1)
        events.append((stop, "timed", mutated_in_timed_closure(code, m.end(), stop - 1)))
    for m in ASSERT.finditer(code):
        events.append((m.start(), "assert", (m.end(), close_of(code, m.end() - 1))))
    tainted, problems = {}, []
    for pos, kind, data in sorted(events, key=lambda e: e[0]):
        if kind == "bind":
            names, a, b = data
            why = TIMING_HELPER.search(code, a, b) or timing_uses(code, a, b, tainted, sizing=True)
            for name in names:
                if why:
                    tainted[name] = f"bound from a measurement in cell {cell_at(pos)}"
                else:
                    tainted.pop(name, None)
        elif kind == "grow":
            name, a, b = data
            if timing_uses(code, a, b, tainted, sizing=True):
                tainted[name] = f"filled from a measurement in cell {cell_at(pos)}"
        elif kind == "timed":
            for name in data:
                tainted[name] = (f"accumulated into by a timed closure in cell {cell_at(pos)}: it "
                                 "counts the calls the benchmark chose to make")
        else:
            a, b = data
            for why in timing_uses(code, a, b, tainted):
                line = cells[cell_at(pos) - 1][pos - starts[cell_at(pos) - 1]:].split("\n")[0]
                problems.append(f"cell {cell_at(pos)}: `{line.strip()[:70]}` uses {why}")
    return problems


def code_cells(path: Path) -> list[str]:
    """Every cell's source, markdown cells blank, so that cell numbers are the notebook's."""
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) if c["cell_type"] == "code" else "" for c in nb["cells"]]


class NoAssertOnTiming(unittest.TestCase):
    def test_no_notebook_asserts_on_a_measurement(self):
        paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
        self.assertTrue(paths)
        for path in paths:
            with self.subTest(notebook=path.name):
                self.assertEqual(timing_asserts(code_cells(path)), [], path.name)

    # The bug that aborted 05 on Zen 4: totals over as many calls as Bench chose.
    COUNTERS_05 = """
let plain: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
let padded: Vec<PaddedCounter> = (0..threads).map(|_| PaddedCounter { count: AtomicU64::new(0) }).collect();
let shared = quick3.clone().name("neighbouring AtomicU64").run(|| count_into(&plain, n, |c| { c.fetch_add(1, Ordering::Relaxed); }))?;
let own = quick3.clone().name("PaddedCounter").run(|| count_into(&padded, n, |c| { c.count.fetch_add(1, Ordering::Relaxed); }))?;
"""

    def test_catches_totals_that_count_the_benchmark_calls(self):
        bug = self.COUNTERS_05 + ("assert!(plain.iter().zip(&padded).all(|(a, b)| a.load(Ordering::Relaxed) "
                                  "== b.count.load(Ordering::Relaxed)));")
        problems = timing_asserts([":dep parlab = { path = \"..\" }", bug])
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("`plain`, accumulated into by a timed closure", problems[0])
        self.assertIn("`padded`", problems[1])
        counted = "let mut calls = 0;\nlet r = quick.run(|| { calls += 1; add(&a) })?;\nassert!(calls > 0);"
        self.assertIn("`calls`", "".join(timing_asserts([counted])))

    def test_catches_measured_speeds_times_and_ratios(self):
        bad = {
            "let machine = Machine::probe_quick()?;\nassert!(machine.threads >= 1 && machine.bandwidth(1)? > 0.0);":
                "`.bandwidth`, a measurement",
            "let r = quick.run(|| f())?;\nassert!(r.median() < 1e-3);": "`.median`",
            "let r = quick.run(|| f())?;\nassert_eq!(r.loops, 1);": "`.loops`",
            "let r = quick.run(|| f())?;\nlet t = r.summary.min;\nassert!(t > 0.0);": "`t`, bound from",
            "let c = Compare::new().kernel(\"a\", || f()).run()?;\nlet s = c.speedups();\nassert!(s[0].1 > 1.0);":
                "`s`, bound from",
            "let a = q.run(|| f())?;\nlet b = q.run(|| g())?;\nlet x = a.median() / b.median();\nassert!(x > 1.3);":
                "`x`",
            "let t = Instant::now();\nf();\nlet secs = t.elapsed();\nassert!(secs < Duration::from_secs(1));":
                "`secs`",
            "let mut rows = vec![];\nfor p in 1..3 { let r = q.run(|| f(p))?; rows.push(r.median()); }\n"
            "assert!(rows[0] > rows[1]);": "`rows`, filled from",
        }
        for src, why in bad.items():
            with self.subTest(src=src):
                self.assertIn(why, "".join(timing_asserts([src])))

    def test_result_and_structure_asserts_pass(self):
        fixed = self.COUNTERS_05.replace(
            "run(|| count_into(&plain,", "run(|| { plain.iter().for_each(|c| c.store(0, Ordering::Relaxed));\n"
            "    count_into(&plain,").replace("Relaxed); }))?;\nlet own", "Relaxed); }) })?;\nlet own").replace(
            "run(|| count_into(&padded,", "run(|| { padded.iter().for_each(|c| c.count.store(0, Ordering::Relaxed));\n"
            "    count_into(&padded,").replace("Relaxed); }))?;\n", "Relaxed); }) })?;\n")
        self.assertIn("store(0", fixed)
        good = [
            fixed + "assert!(plain.iter().all(|c| c.load(Ordering::Relaxed) == n));\n"
                    "assert!(padded.iter().all(|c| c.count.load(Ordering::Relaxed) == n), \"a .median() of 1 ms\");",
            "let machine = Machine::probe_quick()?;\nassert!(machine.threads >= 1);\n"
            "assert_eq!(machine.stream_point(machine.threads)?.threads, machine.threads);",
            "let r = quick.run(|| add(a.view(), b.view(), c.view_mut()))?;\nassert_eq!(c, reference);",
            "let busy = q.run(|| par_sum(x.view()))?;\nassert_eq!(par_sum(x.view()), expected); // not r.median()",
            "let rows = cmp.rows();\nassert_eq!(load_csv(p)?.len(), rows.len());",
            "let r = q.run(|| f())?;\nlet r = pi(10, 1)?;\nassert!(r.value > 3.0);",
        ]
        for src in good:
            with self.subTest(src=src):
                self.assertEqual(timing_asserts([src]), [])

    def test_code_and_strings_are_told_apart(self):
        src = 'let s = "a ; { \\" b"; // c ( d\nlet ch = \'{\'; fn f<\'a>(x: &\'a str) { r#"("#; }\n:dep x'
        code = rust_code(src)
        self.assertEqual(len(code), len(src))
        self.assertEqual(code.split("\n"), ["let s = " + " " * len('"a ; { \\" b"') + "; " + " " * len("// c ( d"),
                                              "let ch =    ; fn f<'a>(x: &'a str) {       ; }", " " * len(":dep x")])


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
