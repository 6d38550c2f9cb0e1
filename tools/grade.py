#!/usr/bin/env python3
"""Grades a folder of submitted student notebooks in the real `rust` kernel.

    ./lab grade DIR [--jobs N] [--cell-timeout SECONDS] [--course DIR]

DIR holds one notebook per student, named after the student (`alice.ipynb`),
each a copy of one of the course's notebooks (any of them) with the student's
solutions typed in. For each submission the grader

* finds which course notebook it is (by its cells: ids and unchanged text);
* restores every check cell from the solution notebook (matched by cell id;
  a deleted one is put back), so editing a check does not pass it;
* executes it in its own kernel (nbrun.py's machinery: the evcxr
  configuration that fails a panicking cell, the `?` marker, late stderr);
  a cell that the student wrote or edited, or a check, that runs past
  --cell-timeout is interrupted (evcxr kills its subprocess; functions stay
  defined, variables are lost) and grading goes on with the next cell; a
  compile error or a panic fails that exercise only; a kernel that dies is
  restarted and the course's set-up cells run again;
* reads each exercise's outcome from its check cell: passed, failed,
  not-done (the `todo!()` is still there), error (the student's cell or the
  check did not compile or crashed), timeout.

It writes DIR/gradebook.csv (student,exercise,outcome,message: one row per
student and exercise), DIR/feedback/<student>.html and prints a table of
students × exercises. A file that is not a notebook, or a notebook that is
not one of the course's, is named on stderr and the rest is graded; the exit
status is then 2 (0 when every submission was graded, whatever its marks).

Submissions are graded --jobs at a time (default: one per core this process
may run on), each in its own kernel with its own evcxr build directory: two
kernels must never share one EVCXR_TMPDIR (cargo and evcxr both write into
it). Worker k uses `<tmpdir>-grade<k>` (worker 0 the runner's own
--tmpdir), each locked while in use and kept, so a second grading run finds
them warm. A line is printed as each submission finishes: its outcomes, its
time, the time so far and an estimate of the time left. The gradebook and
the feedback pages are in the order of the files, whatever order the
submissions finished in: the same as with --jobs 1.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import csv
import html
import multiprocessing
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_student  # noqa: E402
import nbrun  # noqa: E402

ROOT = nbrun.ROOT
COURSE = ROOT / "notebooks"
OUTCOMES = ("passed", "failed", "not-done", "error", "timeout")
# Course cells that the student left as they are: the demonstrations and
# benchmarks of the lesson, which may take longer than an exercise cell.
COURSE_CELL_TIMEOUT = 600
# Ran past the timeout: nbclient interrupted the cell, evcxr killed its process.
KILLED = "Subprocess terminated with status: signal: 9"
CHECK_CALL = make_student.CHECK_CALL
MESSAGE = re.compile(r'<span style="white-space:pre-wrap">(.*?)</span></div>', re.S)


class BadInput(Exception):
    """A submission that cannot be graded; its message names the file."""


# ----------------------------------------------------------------- the course


exercise_names = make_student.exercise_names


@dataclass
class Exercise:
    name: str  # "1.1 chunk_bounds"
    check_id: str  # the id of its check cell
    solution_ids: list[str]  # the cells the student writes, before the check


@dataclass
class Template:
    """One course notebook, as the grader needs it."""

    path: Path
    nb: nbformat.NotebookNode
    exercises: list[Exercise]
    cells: dict[str, str]  # id -> source of every cell

    @property
    def title(self) -> str:
        return self.path.name.replace(".solution.ipynb", "")

    def check_ids(self) -> set[str]:
        return {e.check_id for e in self.exercises}

    def solution_ids(self) -> set[str]:
        return {i for e in self.exercises for i in e.solution_ids}


def load_template(path: Path, names: dict[str, str]) -> Template:
    nb = nbformat.read(path, as_version=4)
    exercises, pending = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "BEGIN SOLUTION" in cell.source:
            pending.append(cell.id)
            continue
        calls = CHECK_CALL.findall(cell.source)
        if calls:
            name = names.get(calls[0], calls[0].removeprefix("check_"))
            exercises.append(Exercise(name, cell.id, pending))
            pending = []
    return Template(path, nb, exercises, {c.id: c.source for c in nb.cells})


def course_templates(course: Path = COURSE) -> list[Template]:
    names = exercise_names()
    return [load_template(p, names) for p in sorted(course.glob("*.solution.ipynb"))]


def match(nb: nbformat.NotebookNode, templates: list[Template]) -> Template | None:
    """The course notebook a submission was made from: the one with the most
    cells of the same id and text; None unless at least half of its fixed
    cells (all but the solutions) are there unchanged."""
    cells = {c.get("id"): c.source for c in nb.cells}
    best, best_score = None, 0.0
    for t in templates:
        fixed = [i for i in t.cells if i not in t.solution_ids()]
        same = sum(1 for i in fixed if cells.get(i) == t.cells[i])
        score = same / max(len(fixed), 1)
        if score > best_score:
            best, best_score = t, score
    return best if best_score >= 0.5 else None


def restore_checks(nb: nbformat.NotebookNode, template: Template) -> list[str]:
    """Puts the solution notebook's check cells into the submission (by id;
    a missing one after the cell that precedes it in the course). Returns
    the exercises whose check had been changed or deleted."""
    changed = []
    by_id = {c.get("id"): k for k, c in enumerate(nb.cells)}
    order = [c.id for c in template.nb.cells]
    for ex in template.exercises:
        source = template.cells[ex.check_id]
        k = by_id.get(ex.check_id)
        if k is not None and nb.cells[k].cell_type == "code":
            if nb.cells[k].source != source:
                changed.append(ex.name)
            nb.cells[k].source = source
            continue
        changed.append(ex.name)
        cell = nbformat.v4.new_code_cell(source)
        if k is not None:  # the id now names a cell of another type
            nb.cells[k].id = f"{ex.check_id}-student"
        before = order[: order.index(ex.check_id)]
        at = next((by_id[i] + 1 for i in reversed(before) if i in by_id), len(nb.cells))
        nb.cells.insert(at, cell)
        cell.id = ex.check_id
        by_id = {c.get("id"): j for j, c in enumerate(nb.cells)}
    return changed


# ------------------------------------------------------------------ execution


@dataclass
class CellRun:
    seconds: float = 0.0
    error: str | None = None
    timed_out: bool = False


@dataclass
class Row:
    exercise: str
    outcome: str
    message: str


@dataclass
class Graded:
    student: str
    notebook: str
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    tampered: list[str] = field(default_factory=list)


async def execute(nb, template: Template, cell_timeout: float, cwd: Path) -> dict[str, CellRun]:
    """Runs every code cell, going on after errors and timeouts."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    runs: dict[str, CellRun] = {}
    replies: dict[int, dict] = {}
    client = NotebookClient(
        nb, kernel_name="rust", timeout=COURSE_CELL_TIMEOUT, startup_timeout=180,
        allow_errors=True, interrupt_on_timeout=True,
        resources={"metadata": {"path": str(cwd)}},
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(
            cell_index, execute_reply),
    )

    def unchanged(cell) -> bool:
        return (template.cells.get(cell.get("id")) == cell.source
                and cell.get("id") not in template.solution_ids()
                and cell.get("id") not in template.check_ids())

    async def run(index: int, cell) -> CellRun:
        limit = COURSE_CELL_TIMEOUT if unchanged(cell) else cell_timeout
        client.timeout = max(1, int(round(limit)))
        started = time.monotonic()
        outcome = CellRun()
        try:
            await client.async_execute_cell(cell, index, execution_count=index + 1)
        except DeadKernelError:
            raise
        except Exception as e:  # nbclient's own errors: report, go on
            outcome.error = f"{type(e).__name__}: {e}"
        else:
            await nbrun.collect_late_outputs(client, cell, index, replies.get(index))
            outcome.error = nbrun.cell_failure(cell, replies.get(index))
        outcome.seconds = time.monotonic() - started
        if outcome.seconds >= client.timeout - 0.5 and (
            outcome.error is None or KILLED in outcome.error or "Timeout" in outcome.error
        ):
            outcome.timed_out = True
        return outcome

    async with client.async_setup_kernel():
        code = [(k, c) for k, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
        for position, (index, cell) in enumerate(code):
            try:
                runs[cell.id] = await run(index, cell)
            except DeadKernelError as e:
                runs[cell.id] = CellRun(error=f"the kernel died: {e}")
                # A fresh kernel, and the course's own cells before this one
                # again (the :dep, the imports), so the next exercises can run.
                await client.km.restart_kernel()
                await client.async_wait_for_reply(client.kc.kernel_info())
                for k, c in code[:position]:
                    if unchanged(c):
                        try:
                            await run(k, nbformat.from_dict(dict(c, outputs=[])))
                        except DeadKernelError:
                            break
    return runs


def check_verdict(cell, exercise: str) -> tuple[str, str] | None:
    """The (status, message) the check cell showed, the last display winning."""
    found = None
    for out in cell.get("outputs", []):
        data = out.get("data", {}).get("text/html", "")
        data = "".join(data) if isinstance(data, list) else data
        for block in re.split(r'(?=<div class="parlab-check")', data):
            m = nbrun.CHECK.search(block)
            if m and html.unescape(m.group(2)) == exercise:
                text = MESSAGE.search(block)
                message = text.group(1) if text else ""
                message = re.sub(r"</?code>", "`", message)
                found = (m.group(1), html.unescape(re.sub(r"<[^>]+>", "", message)))
    return found


def first_line(error: str) -> str:
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    # evcxr's compile errors start with the error's own line; a panic with
    # `thread '…' panicked at file:line:col:` then the message on the next.
    if lines and "panicked at" in lines[0] and len(lines) > 1:
        return f"panicked: {lines[1]}"
    return lines[0] if lines else "an error without a message"


def verdicts(nb, template: Template, runs: dict[str, CellRun], limit: float) -> list[Row]:
    cells = {c.get("id"): c for c in nb.cells}
    rows = []
    for ex in template.exercises:
        row = None
        for sid in ex.solution_ids:
            r = runs.get(sid)
            if r is None:
                continue
            src = cells[sid].source.strip().splitlines()[0][:60] if cells[sid].source.strip() else ""
            if r.timed_out:
                row = Row(ex.name, "timeout",
                          f"the cell `{src}` ran past {limit:g} s and was stopped")
            elif r.error is not None:
                row = Row(ex.name, "error", first_line(r.error))
            if row:
                break
        if row is None:
            check = runs.get(ex.check_id, CellRun(error="the check cell did not run"))
            verdict = check_verdict(cells.get(ex.check_id, {}), ex.name)
            if check.timed_out:
                row = Row(ex.name, "timeout",
                          f"the check did not finish within {limit:g} s (an endless loop or a "
                          "deadlock?) and was stopped")
            elif verdict is not None:
                status, message = verdict
                row = Row(ex.name, status if status in OUTCOMES else "error", message)
            elif check.error is not None:
                row = Row(ex.name, "error", first_line(check.error))
            else:
                row = Row(ex.name, "error", "the check showed no result")
        rows.append(row)
    return rows


def check_gradable(path: Path, templates: list[Template]) -> tuple[nbformat.NotebookNode, Template]:
    """The submission and its course notebook; BadInput when it cannot be graded."""
    problems = nbrun.bad_inputs([path])
    if problems:
        raise BadInput(problems[0])
    nb = nbformat.read(path, as_version=4)
    template = match(nb, templates)
    if template is None:
        raise BadInput(f"{path}: not one of the course's notebooks "
                       f"({', '.join(t.title for t in templates)})")
    return nb, template


def grade_one(path: Path, templates: list[Template], cell_timeout: float) -> Graded:
    nb, template = check_gradable(path, templates)
    graded = Graded(student=path.stem, notebook=template.title)
    graded.tampered = restore_checks(nb, template)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    started = time.monotonic()
    try:
        runs = asyncio.run(execute(nb, template, cell_timeout, template.path.parent))
    except Exception as e:  # the kernel did not start, or died for good
        graded.rows = [Row(ex.name, "error", f"kernel error: {type(e).__name__}: {e}")
                       for ex in template.exercises]
    else:
        graded.rows = verdicts(nb, template, runs, cell_timeout)
    graded.seconds = time.monotonic() - started
    return graded


# -------------------------------------------------------------------- reports


def write_gradebook(folder: Path, graded: list[Graded]) -> Path:
    path = folder / "gradebook.csv"
    tmp = path.with_name(".gradebook.csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "exercise", "outcome", "message"])
        for g in graded:
            for r in g.rows:
                w.writerow([g.student, r.exercise, r.outcome, r.message])
    tmp.replace(path)
    return path


COLORS = {"passed": "#1a7f37", "failed": "#cf222e", "not-done": "#6e7781",
          "error": "#9a6700", "timeout": "#8250df"}


def feedback_html(g: Graded) -> str:
    e = html.escape

    def code(text: str) -> str:
        return re.sub(r"`([^`]*)`", r"<code>\1</code>", e(text))

    rows = "\n".join(
        f'<tr><td>{e(r.exercise)}</td><td style="color:{COLORS.get(r.outcome, "#000")};'
        f'font-weight:bold">{e(r.outcome)}</td><td style="white-space:pre-wrap">'
        f"{code(r.message)}</td></tr>"
        for r in g.rows
    )
    passed = sum(r.outcome == "passed" for r in g.rows)
    note = ""
    if g.tampered:
        note = ("<p>The check cells of " + e(", ".join(g.tampered)) + " had been changed or "
                "deleted; they were graded with the course's own checks.</p>")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{e(g.student)}: {e(g.notebook)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top;text-align:left}</style></head><body>"
        f"<h1>{e(g.student)} — {e(g.notebook)}</h1>"
        f"<p>{passed} of {len(g.rows)} exercises passed.</p>{note}"
        f"<table><tr><th>exercise</th><th>outcome</th><th>message</th></tr>\n{rows}\n"
        "</table></body></html>\n"
    )


def summary_table(graded: list[Graded]) -> str:
    exercises: list[str] = []
    for g in graded:
        for r in g.rows:
            if r.exercise not in exercises:
                exercises.append(r.exercise)
    exercises.sort(key=lambda name: [int(x) if x.isdigit() else x
                                     for x in re.split(r"[.\s]", name)])
    width = max([len("student")] + [len(g.student) for g in graded])
    cols = [max(len(x), 8) for x in exercises]
    lines = [f"{'student':<{width}}  " + "  ".join(f"{x:<{w}}" for x, w in zip(exercises, cols))
             + "  seconds"]
    for g in graded:
        got = {r.exercise: r.outcome for r in g.rows}
        lines.append(f"{g.student:<{width}}  "
                     + "  ".join(f"{got.get(x, '-'):<{w}}" for x, w in zip(exercises, cols))
                     + f"  {g.seconds:7.1f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- main

IGNORED = {"gradebook.csv", "feedback", ".ipynb_checkpoints"}


def submissions(folder: Path) -> tuple[list[Path], list[str]]:
    paths, problems = [], []
    for path in sorted(folder.iterdir()):
        if path.name in IGNORED or path.name.startswith("."):
            continue
        if path.is_dir():
            problems.append(f"{path}: a folder, not a notebook (put one .ipynb per student in {folder})")
        elif path.suffix != ".ipynb":
            problems.append(f"{path}: not a notebook (.ipynb)")
        else:
            paths.append(path)
    return paths, problems


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_tmpdir(tmpdir: Path, slot: int) -> Path:
    """Worker `slot`'s own evcxr build directory: the runner's for worker 0."""
    return tmpdir if slot == 0 else tmpdir.with_name(f"{tmpdir.name}-grade{slot}")


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(g: Graded, done: int, total: int, elapsed: float) -> str:
    """`[grade] 3/6 bob (01-matrix-addition): 1 failed, 1 not-done in 41.2 s;
    elapsed 1:23, ETA 0:55`. The estimate assumes the submissions left take as
    long, per submission finished, as the ones so far (with N kernels at a
    time, that already counts N at once)."""
    counts: dict[str, int] = {}
    for r in g.rows:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    left = total - done
    eta = "done" if left == 0 else f"ETA {clock(elapsed / done * left)}"
    return (f"[grade] {done}/{total} {g.student} ({g.notebook}): "
            + ", ".join(f"{n} {o}" for o, n in counts.items())
            + f" in {g.seconds:.1f} s; elapsed {clock(elapsed)}, {eta}")


# One worker process's state: its templates and the lock on its build directory.
_worker: dict = {}


def _start_worker(slots, tmpdir: Path, course: Path) -> None:
    slot = slots.get()
    directory = worker_tmpdir(tmpdir, slot)
    nbrun.evcxr_environment(directory)
    os.environ.pop("PARLAB_STRICT_CHECKS", None)
    _worker["lock"] = nbrun.lock_tmpdir(directory)
    _worker["templates"] = course_templates(course)


def _grade_in_worker(path: Path, cell_timeout: float) -> Graded:
    return grade_one(path, _worker["templates"], cell_timeout)


def grade_all(paths: list[Path], templates: list[Template], args) -> list[Graded]:
    """Grades `paths` on `args.jobs` kernels at a time; the results in the
    order of `paths`. Prints a line as each one finishes."""
    total = len(paths)
    started = time.monotonic()
    results: dict[Path, Graded] = {}

    def finished(path: Path, g: Graded) -> None:
        results[path] = g
        print(progress_line(g, len(results), total, time.monotonic() - started), flush=True)

    jobs = min(args.jobs, total)
    if jobs <= 1:
        nbrun.evcxr_environment(args.tmpdir)
        lock = nbrun.lock_tmpdir(args.tmpdir)  # noqa: F841 (held while grading)
        for path in paths:
            finished(path, grade_one(path, templates, args.cell_timeout))
        return [results[p] for p in paths]

    # One process per kernel: each sets its own EVCXR_TMPDIR, which the kernel
    # it starts inherits (the environment is per process). The shared evcxr
    # configuration is written here, once, before any kernel starts.
    nbrun.evcxr_environment(args.tmpdir)
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for slot in range(jobs):
        slots.put(slot)
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start_worker,
        initargs=(slots, args.tmpdir, args.course),
    ) as pool:
        futures = {pool.submit(_grade_in_worker, p, args.cell_timeout): p for p in paths}
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            try:
                g = future.result()
            except Exception as e:  # the worker process itself failed
                template = match(nbformat.read(path, as_version=4), templates)
                g = Graded(student=path.stem, notebook=template.title if template else "?")
                g.rows = [Row(ex.name, "error", f"grader error: {type(e).__name__}: {e}")
                          for ex in (template.exercises if template else [])]
            finished(path, g)
    return [results[p] for p in paths]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./lab grade", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, metavar="DIR")
    parser.add_argument("--jobs", "-j", type=int, default=available_cores(), metavar="N",
                        help="kernels at a time (default: one per core, "
                             f"{available_cores()} here)")
    parser.add_argument("--cell-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="limit of a student's cell or a check (default 60)")
    parser.add_argument("--course", type=Path, default=COURSE, metavar="DIR",
                        help="the folder of the *.solution.ipynb notebooks (default notebooks/)")
    parser.add_argument("--tmpdir", type=Path, default=nbrun.TARGET / "evcxr-tmp",
                        help="evcxr build directory of the first kernel; kernel k > 0 "
                             "uses TMPDIR-grade<k>")
    args = parser.parse_args(argv)

    def error(line: str) -> None:
        print(f"[grade] error: {line}", file=sys.stderr, flush=True)

    if not args.folder.is_dir():
        error(f"{args.folder}: no such folder" if not args.folder.exists()
              else f"{args.folder}: not a folder")
        return 2
    if args.cell_timeout <= 0:
        error(f"--cell-timeout {args.cell_timeout:g}: must be positive")
        return 2
    if args.jobs < 1:
        error(f"--jobs {args.jobs}: must be at least 1")
        return 2
    args.course, args.tmpdir = args.course.resolve(), args.tmpdir.resolve()
    templates = course_templates(args.course)
    if not templates:
        error(f"{args.course}: no *.solution.ipynb notebooks")
        return 2
    paths, problems = submissions(args.folder)
    for line in problems:
        error(line)
    # Files that cannot be graded are named before any kernel starts.
    gradable = []
    for path in paths:
        try:
            check_gradable(path, templates)
        except BadInput as e:
            problems.append(str(e))
            error(str(e))
        else:
            gradable.append(path.resolve())

    # The grader reads each check's verdict from its HTML: a strict check
    # (for nbgrader) would end its cell's process before showing it.
    os.environ.pop("PARLAB_STRICT_CHECKS", None)
    jobs = min(args.jobs, len(gradable))
    if gradable:
        print(f"[grade] {len(gradable)} submission(s), {max(jobs, 1)} kernel(s) at a time",
              flush=True)
    graded = grade_all(gradable, templates, args) if gradable else []

    feedback = args.folder / "feedback"
    feedback.mkdir(exist_ok=True)
    for g in graded:
        (feedback / f"{g.student}.html").write_text(feedback_html(g), encoding="utf-8")
    book = write_gradebook(args.folder, graded)
    print()
    if graded:
        print(summary_table(graded))
    print(f"\ngradebook: {book}\nfeedback:  {feedback}/")
    if problems:
        print(f"\n{len(problems)} file(s) not graded:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("[grade] interrupted", file=sys.stderr)
        sys.exit(130)
