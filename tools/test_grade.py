"""Tests of `./lab grade` (tools/grade.py) in the real `rust` kernel.

The course here is a small copy of notebooks/01-matrix-addition.solution.ipynb
(its set-up cells and its two exercises), made afresh from the current
notebook, and the submissions are that notebook's student copy with typical
answers typed in: right, wrong in a way the checker knows, an endless loop, a
check cell edited to print "passed" and one deleted, a compile error; and three files that
cannot be graded. The batch is graded on two kernels at a time (--jobs 2), and
four of its submissions once more with --jobs 2 and with --jobs 1: the
gradebook and the feedback pages must be the same. Run by `./lab test`:

    .venv/bin/python -m unittest -v tools/test_grade.py
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import grade  # noqa: E402
import make_student  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks" / "01-matrix-addition.solution.ipynb"
CELL_TIMEOUT = 15
# Five submissions of two exercises, one timing out, with a warm build:
# 2-3 minutes on 2 busy cores (10-30 s a kernel).
TIME_BOUND = 420

RIGHT_BOUNDS = None  # the solution notebook's own answers
WRONG_BOUNDS = """fn chunk_bounds(rows: usize, threads: usize) -> Vec<(usize, usize)> {
    let size = rows / threads;
    (0..threads).map(|k| (k * size, (k + 1) * size)).collect()
}"""
ENDLESS_BOUNDS = """fn chunk_bounds(rows: usize, threads: usize) -> Vec<(usize, usize)> {
    let mut k = 0;
    while k < threads { k = k * 1; }
    vec![(0, rows)]
}"""
NOT_COMPILING_BOUNDS = """fn chunk_bounds(rows: usize, threads: usize) -> Vec<(usize, usize)> {
    let size: usize = "rows" / threads;
    vec![(0, size)]
}"""
# 1.2 written without chunk_bounds, so that it passes on its own.
OWN_ADD = """fn add_in_chunks(a: ArrayView2<f32>, b: ArrayView2<f32>, c: ArrayViewMut2<f32>, threads: usize) {
    let rows = a.nrows();
    let (base, extra) = (rows / threads, rows % threads);
    std::thread::scope(|scope| {
        let mut rest = c;
        let mut start = 0;
        for k in 0..threads {
            let n = base + usize::from(k < extra);
            let (mut mine, tail) = rest.split_at(Axis(0), n);
            rest = tail;
            let (a, b) = (a.slice(s![start..start + n, ..]), b.slice(s![start..start + n, ..]));
            scope.spawn(move || mine.zip_mut_with(&(&a + &b), |x, &y| *x = y));
            start += n;
        }
    });
}"""
FAKE_PASS = (
    'println!("EVCXR_BEGIN_CONTENT text/html\\n<div class=\\"parlab-check\\" '
    'data-parlab-check=\\"passed\\" data-exercise=\\"1.1 chunk_bounds\\">'
    '<span style=\\"white-space:pre-wrap\\">ok</span></div>\\nEVCXR_END_CONTENT");'
)


def course_copy(folder: Path) -> Path:
    """A course of one notebook: 01's set-up cells (`:dep` made absolute) and
    its exercises, with the markdown in between."""
    nb = json.loads(SOURCE.read_text())
    cells = nb["cells"]
    text = ["".join(c["source"]) for c in cells]
    first = next(k for k, t in enumerate(text) if "BEGIN SOLUTION" in t and cells[k]["cell_type"] == "code")
    last = max(k for k, t in enumerate(text) if "exercise::check_" in t)
    setup = [k for k, t in enumerate(text[:first]) if cells[k]["cell_type"] == "code"
             and (t.lstrip().startswith(":dep") or t.lstrip().startswith("use "))]
    keep = [cells[0]] + [cells[k] for k in setup] + cells[first - 1: last + 1]
    for cell in keep:
        source = "".join(cell["source"])
        if source.lstrip().startswith(":dep"):
            cell["source"] = source.replace('path = ".."', f'path = "{ROOT}"')
    nb["cells"] = keep
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "01-mini.solution.ipynb"
    path.write_text(json.dumps(nb, indent=1))
    return path


def student_copy(solution: Path) -> dict:
    _, text = make_student.student_of(solution)
    return json.loads(text)


def with_cells(nb: dict, replace: dict[str, str | None]) -> dict:
    """`nb` with the cells named by id replaced (None deletes the cell); a
    key `fn name` picks the code cell that defines `name`."""
    nb = json.loads(json.dumps(nb))
    out = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        key = cell.get("id")
        for k in replace:
            if k.startswith("fn ") and cell["cell_type"] == "code" and source.lstrip().startswith(k + "("):
                key = k
        if key in replace:
            if replace[key] is None:
                continue
            cell["source"] = replace[key]
        out.append(cell)
    nb["cells"] = out
    return nb


def check_id(nb: dict, function: str) -> str:
    return next(c["id"] for c in nb["cells"] if f"check_{function}" in "".join(c["source"]))


def submissions(folder: Path, solution: Path) -> dict[str, tuple[str, str]]:
    """Writes the submissions; returns student -> expected (1.1, 1.2) outcomes."""
    student = student_copy(solution)
    right = json.loads(solution.read_text())
    c11 = check_id(student, "chunk_bounds")
    c14 = check_id(student, "add_in_chunks")
    cases = {
        "ada": (right, ("passed", "passed")),
        "bob": (with_cells(student, {"fn chunk_bounds": WRONG_BOUNDS}), ("failed", "not-done")),
        "cy": (with_cells(student, {"fn chunk_bounds": ENDLESS_BOUNDS, "fn add_in_chunks": OWN_ADD}),
               ("timeout", "passed")),
        # An edited check that prints "passed", a deleted one.
        "dee": (with_cells(student, {"fn chunk_bounds": WRONG_BOUNDS, c11: FAKE_PASS, c14: None}),
                ("failed", "not-done")),
        "eve": (with_cells(student, {"fn chunk_bounds": NOT_COMPILING_BOUNDS}), ("error", "not-done")),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, (nb, _) in cases.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(nb, indent=1))
    # Three that cannot be graded.
    (folder / "notes.txt").write_text("not a notebook\n")
    (folder / "gil.ipynb").write_text(json.dumps(right)[:500])
    (folder / "hal.ipynb").write_text((ROOT / "tools" / "fixtures" / "pass.ipynb").read_text())
    return {name: expected for name, (_, expected) in cases.items()}


class GradeWithoutKernel(unittest.TestCase):
    def test_every_check_of_the_course_has_an_exercise_name(self):
        names = grade.exercise_names()
        for t in grade.course_templates():
            checks = sum(src.count("exercise::check_") for src in t.cells.values())
            self.assertGreaterEqual(len(t.exercises), 2, t.path.name)
            self.assertEqual(len(t.exercises), checks, t.path.name)
            for ex in t.exercises:
                self.assertRegex(ex.name, r"^\d+[a-z]?\.\d+ \w+$", t.path.name)
                self.assertTrue(ex.solution_ids, f"{t.path.name}: {ex.name} has no solution cell")
        self.assertEqual(names["check_chunk_bounds"], "1.1 chunk_bounds")

    def test_submissions_are_matched_to_their_notebook_and_checks_restored(self):
        import nbformat

        templates = grade.course_templates()
        for t in templates:
            student = t.path.with_name(t.path.name.replace(".solution", ""))
            nb = nbformat.read(student, as_version=4)
            self.assertIs(grade.match(nb, templates), t, student.name)
        t = templates[0]
        nb = nbformat.read(t.path.with_name(t.path.name.replace(".solution", "")), as_version=4)
        first = t.exercises[0].check_id
        nb.cells = [c for c in nb.cells if c.id != first]
        second = next(c for c in nb.cells if c.id == t.exercises[1].check_id)
        second.source = "println!(\"passed\");"
        # The two checks changed are restored (and named); the others were intact.
        self.assertEqual(grade.restore_checks(nb, t), [e.name for e in t.exercises[:2]])
        sources = {c.id: c.source for c in nb.cells}
        self.assertEqual(sources[first], t.cells[first])
        self.assertEqual(sources[second.id], t.cells[second.id])
        ids = [c.id for c in nb.cells]
        self.assertEqual(ids.index(first), ids.index(t.exercises[0].solution_ids[-1]) + 1)
        self.assertIsNone(grade.match(nbformat.read(ROOT / "tools" / "fixtures" / "pass.ipynb", 4),
                                      templates))

    def test_progress_lines_count_time_and_estimate(self):
        g = grade.Graded("bob", "01-matrix-addition", [grade.Row("1.1 a", "failed", ""),
                                                       grade.Row("1.2 b", "not-done", "")], 41.25)
        self.assertEqual(grade.progress_line(g, 2, 6, 83.0),
                         "[grade] 2/6 bob (01-matrix-addition): 1 failed, 1 not-done in 41.2 s; "
                         "elapsed 1:23, ETA 2:46")
        self.assertTrue(grade.progress_line(g, 6, 6, 200.0).endswith("elapsed 3:20, done"))

    def test_each_kernel_has_its_own_build_directory(self):
        base = ROOT / "target" / "evcxr-tmp"
        dirs = [grade.worker_tmpdir(base, k) for k in range(4)]
        self.assertEqual(dirs[0], base)
        self.assertEqual(len(set(dirs)), 4)
        self.assertTrue(all(d.parent == base.parent for d in dirs))

    def test_a_missing_folder_is_one_line_and_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), d, "--jobs", "0"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("--jobs 0", p.stderr)
        for args in (["/nonexistent/submissions"], [str(SOURCE)]):
            p = subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), *args],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertNotIn("Traceback", p.stderr)


class NbgraderMetadata(unittest.TestCase):
    """make_student.py --nbgrader and tools/nbgrader_course.py, on copies."""

    def test_checks_are_locked_graded_cells_and_answers_solution_cells(self):
        with tempfile.TemporaryDirectory() as d:
            for solution in make_student.solutions():
                copy = Path(d) / solution.name
                copy.write_text(solution.read_text())
                text = make_student.stamped_solution(copy, force=True)
                nb = json.loads(text)
                checks = [c for c in nb["cells"] if "exercise::check_" in "".join(c["source"])]
                answers = [c for c in nb["cells"] if "BEGIN SOLUTION" in "".join(c["source"])
                           and c["cell_type"] == "code"]
                calls = sum("".join(c["source"]).count("exercise::check_") for c in nb["cells"])
                self.assertGreaterEqual(len(checks), 2, solution.name)
                self.assertEqual(len(checks), calls, f"{solution.name}: one check per cell")
                for c in checks:
                    meta = c["metadata"]["nbgrader"]
                    self.assertTrue(meta["grade"] and meta["locked"], solution.name)
                    self.assertFalse(meta["solution"])
                    self.assertEqual(meta["points"], 1)
                    self.assertRegex(meta["grade_id"], r"^ex\d+[a-z]?_\d+-\w+$")
                    self.assertFalse(c["metadata"]["editable"])
                for c in answers:
                    meta = c["metadata"]["nbgrader"]
                    self.assertTrue(meta["solution"] and not meta["grade"] and not meta["locked"])
                ids = [c["metadata"]["nbgrader"]["grade_id"] for c in checks + answers]
                self.assertEqual(len(ids), len(set(ids)), solution.name)
                # Stamping is idempotent, a stamped notebook stays stamped, and
                # the student copy carries the same metadata.
                copy.write_text(text)
                self.assertEqual(make_student.stamped_solution(copy), text)
                _, student = make_student.student_of(copy)
                kept = [c["metadata"] for c in json.loads(student)["cells"]]
                self.assertEqual(kept, [c["metadata"] for c in nb["cells"]])
            self.assertEqual(make_student.grade_id("1.1 chunk_bounds"), "ex1_1-chunk_bounds")

    def test_the_nbgrader_course_directory(self):
        import nbgrader_course as export

        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(export.main([d]), 0)
            config = (Path(d) / "nbgrader_config.py").read_text()
            self.assertIn('os.environ["PARLAB_STRICT_CHECKS"] = "1"', config)
            compile(config, "nbgrader_config.py", "exec")
            nb = json.loads((Path(d) / "source" / "01-matrix-addition"
                             / "01-matrix-addition.ipynb").read_text())
            text = json.dumps(nb)
            self.assertNotIn("<!-- BEGIN SOLUTION -->", text)
            self.assertIn("// BEGIN SOLUTION", text)
            self.assertIn(f":dep parlab = {{ path = {json.dumps(json.dumps(str(ROOT)))[1:-1]} }}", text)

    def test_the_nbgrader_config_raises_the_cell_timeout_on_nbgraders_own_class(self):
        """nbgrader's Execute preprocessor redefines `timeout` with a 30 s
        default; the generated config must reach it. Loaded here with
        traitlets, as nbgrader loads it, against a stand-in for nbgrader's
        class (same base class, same trait) when nbgrader is not installed."""
        import importlib.util
        import types

        import nbgrader_course as export
        from nbconvert.preprocessors import ExecutePreprocessor
        from traitlets import Integer
        from traitlets.config.loader import PyFileConfigLoader

        if importlib.util.find_spec("nbgrader") is not None:
            from nbgrader.preprocessors.execute import Execute
            saved = None
        else:
            class Execute(ExecutePreprocessor):
                timeout = Integer(export.NBGRADER_TIMEOUT, allow_none=True).tag(config=True)

                def on_cell_executed(self, **kwargs):
                    return None

            module = types.ModuleType("nbgrader.preprocessors.execute")
            module.Execute = Execute
            names = ("nbgrader", "nbgrader.preprocessors", "nbgrader.preprocessors.execute")
            saved = {n: sys.modules.get(n) for n in names}
            sys.modules["nbgrader"] = types.ModuleType("nbgrader")
            sys.modules["nbgrader.preprocessors"] = types.ModuleType("nbgrader.preprocessors")
            sys.modules["nbgrader.preprocessors"].execute = module
            sys.modules["nbgrader.preprocessors.execute"] = module
        on_cell_executed = Execute.on_cell_executed
        try:
            self.assertEqual(Execute().timeout, export.NBGRADER_TIMEOUT)
            with tempfile.TemporaryDirectory() as d:
                self.assertEqual(export.main([d]), 0)
                config = PyFileConfigLoader("nbgrader_config.py", path=d).load_config()
                execute = Execute(config=config)
                self.assertEqual(execute.timeout, export.DEFAULT_TIMEOUT)
                self.assertEqual(execute.startup_timeout, 180)
                # As long as ./lab grade gives the course's own cells, which
                # covers a cold first :dep (about a minute).
                self.assertEqual(export.DEFAULT_TIMEOUT, grade.COURSE_CELL_TIMEOUT)
                self.assertIn("30 s", (Path(d) / "nbgrader_config.py").read_text())
                self.assertEqual(export.main([d, "--timeout", "900"]), 0)
                config = PyFileConfigLoader("nbgrader_config.py", path=d).load_config()
                self.assertEqual(Execute(config=config).timeout, 900)
                self.assertEqual(export.main([d, "--timeout", "20"]), 2)
        finally:
            Execute.on_cell_executed = on_cell_executed  # the config patches it
            for name, old in (saved or {}).items():
                if old is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = old


def run_grader(folder: Path, course: Path, jobs: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "grade.py"), str(folder), "--jobs", str(jobs),
         "--course", str(course.parent), "--cell-timeout", str(CELL_TIMEOUT)],
        capture_output=True, text=True, timeout=TIME_BOUND + 120,
    )


class GradeSubmissions(unittest.TestCase):
    """One batch through the real kernel: every outcome, and the bad files."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="parlab-grade-")
        base = Path(cls.tmp.name)
        course = course_copy(base / "course")
        cls.folder = base / "submissions"
        cls.expected = submissions(cls.folder, course)
        started = time.monotonic()
        cls.proc = run_grader(cls.folder, course, 2)
        cls.seconds = time.monotonic() - started
        book = cls.folder / "gradebook.csv"
        cls.rows = []
        if book.exists():
            with book.open(newline="", encoding="utf-8") as f:
                cls.rows = list(csv.DictReader(f))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_submission_gets_its_expected_outcomes_in_time(self):
        got = {}
        for row in self.rows:
            got.setdefault(row["student"], {})[row["exercise"]] = row["outcome"]
        # The notebook's other exercises: solved in ada's copy (the solution),
        # untouched stubs in everyone else's.
        names = grade.exercise_names()
        others = [names[c] for c in re.findall(r"exercise::(check_\w+)\(", SOURCE.read_text())
                  if names[c] not in ("1.1 chunk_bounds", "1.2 add_in_chunks")]
        want = {s: {"1.1 chunk_bounds": a, "1.2 add_in_chunks": b,
                    **{e: "passed" if s == "ada" else "not-done" for e in others}}
                for s, (a, b) in self.expected.items()}
        self.assertEqual(got, want, self.proc.stdout + self.proc.stderr)
        self.assertLess(self.seconds, TIME_BOUND)

    def test_messages_are_the_checkers_words_or_the_errors_first_line(self):
        msg = {(r["student"], r["exercise"]): r["message"] for r in self.rows}
        self.assertIn("drop the remainder", msg["bob", "1.1 chunk_bounds"])
        self.assertIn("drop the remainder", msg["dee", "1.1 chunk_bounds"])
        self.assertIn(f"{CELL_TIMEOUT} s", msg["cy", "1.1 chunk_bounds"])
        self.assertIn("error", msg["eve", "1.1 chunk_bounds"].lower())
        self.assertIn("`add_in_chunks` still has its `todo!()`", msg["bob", "1.2 add_in_chunks"])
        self.assertEqual(list(self.rows[0]), ["student", "exercise", "outcome", "message"])

    def test_bad_files_are_named_and_the_rest_graded(self):
        self.assertEqual(self.proc.returncode, 2, self.proc.stderr)
        self.assertNotIn("Traceback", self.proc.stderr)
        for name in ("notes.txt", "gil.ipynb", "hal.ipynb"):
            self.assertIn(name, self.proc.stderr)
        self.assertIn("not a notebook", self.proc.stderr)
        self.assertIn("not a valid notebook", self.proc.stderr)
        self.assertIn("not one of the course's notebooks", self.proc.stderr)

    def test_feedback_pages_and_the_summary_table(self):
        for student in self.expected:
            page = (self.folder / "feedback" / f"{student}.html").read_text()
            self.assertIn("1.2 add_in_chunks", page)
        self.assertIn("had been changed or deleted",
                      (self.folder / "feedback" / "dee.html").read_text())
        header = next(ln for ln in self.proc.stdout.splitlines() if ln.startswith("student"))
        self.assertIn("1.1 chunk_bounds", header)
        self.assertIn("1.2 add_in_chunks", header)

    def test_a_line_with_elapsed_time_and_eta_per_finished_submission(self):
        lines = [ln for ln in self.proc.stdout.splitlines() if re.match(r"\[grade\] \d+/\d+ ", ln)]
        self.assertEqual(len(lines), len(self.expected), self.proc.stdout)
        self.assertEqual([ln.split()[1] for ln in lines],
                         [f"{k}/{len(self.expected)}" for k in range(1, len(self.expected) + 1)])
        self.assertTrue(all("elapsed" in ln for ln in lines))
        self.assertTrue(all("ETA" in ln for ln in lines[:-1]), lines)
        self.assertIn("2 kernel(s) at a time", self.proc.stdout)


class ParallelGradingIsSerialGrading(unittest.TestCase):
    """The same four submissions (every outcome) with --jobs 2 and --jobs 1:
    the same gradebook and the same feedback pages, byte for byte."""

    def test_jobs_2_gives_what_jobs_1_gives(self):
        with tempfile.TemporaryDirectory(prefix="parlab-grade-jobs-") as d:
            base = Path(d)
            course = course_copy(base / "course")
            made = base / "made"
            submissions(made, course)
            books, pages = {}, {}
            for jobs in (2, 1):
                folder = base / f"jobs{jobs}"
                folder.mkdir()
                for name in ("ada", "bob", "cy", "eve"):
                    (folder / f"{name}.ipynb").write_text((made / f"{name}.ipynb").read_text())
                proc = run_grader(folder, course, jobs)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                books[jobs] = (folder / "gradebook.csv").read_text()
                pages[jobs] = {p.name: p.read_text() for p in (folder / "feedback").iterdir()}
            self.assertEqual(books[2], books[1])
            self.assertEqual(sorted(pages[2]), ["ada.html", "bob.html", "cy.html", "eve.html"])
            self.assertEqual(pages[2], pages[1])


if __name__ == "__main__":
    unittest.main()
