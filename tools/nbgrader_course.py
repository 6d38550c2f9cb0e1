#!/usr/bin/env python3
"""Lays out the course as an nbgrader course directory.

    python3 tools/nbgrader_course.py DEST [--parlab PATH] [--timeout SECONDS]

writes, for each notebooks/NN-name.solution.ipynb, the nbgrader source
notebook DEST/source/NN-name/NN-name.ipynb (one assignment per notebook) and
DEST/nbgrader_config.py. In each source notebook

* the check cells are autograder tests (graded, locked, one point each, with
  `grade_id` `ex1_1-chunk_bounds`) and the cells with a `// BEGIN SOLUTION`
  region are solution cells (tools/make_student.py's nbgrader metadata);
* the solution regions stay: `nbgrader generate_assignment` replaces each with
  `ClearSolutions.code_stub["rust"]` (nbgrader matches any line containing
  "BEGIN SOLUTION", so parlab's `// BEGIN SOLUTION: todo!("…")` markers work
  as they are; the stub text after the colon is not used);
* the Markdown solution regions (notes for instructors) are dropped;
* `:dep parlab = { path = ".." }` points at PATH (default: this checkout),
  which every student's kernel must be able to read.

nbgrader_config.py raises nbgrader's cell timeout from its 30 s to --timeout
(default 600 s: the first `:dep` builds parlab and its dependencies, and the
lessons time kernels for up to a minute; see the comment in the config), and
sets PARLAB_STRICT_CHECKS=1 for every kernel nbgrader
starts (autograde, validate): a check that does not pass then ends its cell
with an error, which nbgrader counts as zero points. Without it a parlab check
never fails its cell (evcxr reports a caught panic as success) and nbgrader
would give full marks to anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_student  # noqa: E402

ROOT = make_student.ROOT
# nbgrader's Execute preprocessor (0.9) limits a cell to 30 s by default.
NBGRADER_TIMEOUT = 30
# The limit the generated config sets instead: as tools/grade.py gives the
# course's own cells (a cold first `:dep` takes about a minute).
DEFAULT_TIMEOUT = 600

CONFIG = '''\
# Written by parlab's tools/nbgrader_course.py.
import os

# A parlab check that does not pass ends its cell with an error (see
# parlab::exercise::STRICT_VAR): nbgrader's autograder counts errors.
os.environ["PARLAB_STRICT_CHECKS"] = "1"

# evcxr (0.22) answers a cell that does not compile with an error reply that
# has no ename, evalue or traceback; nbgrader's Execute preprocessor reads
# them (KeyError: 'ename', and the whole submission fails). Fill them in.
from nbgrader.preprocessors import execute as _execute

_on_cell_executed = _execute.Execute.on_cell_executed


def _on_cell_executed_evcxr(self, **kwargs):
    content = kwargs["execute_reply"]["content"]
    if content.get("status") == "error":
        content.setdefault("ename", "Error")
        content.setdefault("evalue", "the cell failed (evcxr gave no details)")
        content.setdefault("traceback", [])
    return _on_cell_executed(self, **kwargs)


_execute.Execute.on_cell_executed = _on_cell_executed_evcxr

c = get_config()
c.CourseDirectory.root = {root!r}
# parlab's solution regions are `// BEGIN SOLUTION: todo!("…")` … `// END SOLUTION`.
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {{"rust": 'todo!("your code here")'}}
# nbgrader's own limit per cell is 30 s (its Execute preprocessor redefines
# nbclient's `timeout` with that default), and on a timeout it interrupts the
# kernel: evcxr then kills the cell's process and every variable is lost, so
# the rest of the notebook fails. The course's cells do not fit in 30 s: the
# first cell, `:dep parlab`, builds parlab, ndarray, rayon, plotters and
# serde (about a minute on a new build directory, 8 s on a warm one), and the
# lessons' sweeps and comparisons time kernels for 10-60 s on 2 busy cores.
# So the limit is {timeout} s, the same as `./lab grade` gives the course's
# own cells (tools/grade.py COURSE_CELL_TIMEOUT); `--timeout` changes it. It is
# set on nbgrader's class itself (Execute) and on nbconvert's parent class.
c.Execute.timeout = {timeout}
c.ExecutePreprocessor.timeout = {timeout}
c.Execute.startup_timeout = 180
c.ExecutePreprocessor.startup_timeout = 180
'''


def source_notebook(solution: Path, parlab: Path) -> str:
    nb = make_student.nbgrader_metadata(json.loads(solution.read_text()))
    for i, cell in enumerate(nb["cells"], 1):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            source = make_student.strip_markdown(source, f"{solution.name} cell {i}")
        elif cell["cell_type"] == "code":
            source = source.replace(':dep parlab = { path = ".." }',
                                    f":dep parlab = {{ path = {json.dumps(str(parlab))} }}")
            cell["outputs"], cell["execution_count"] = [], None
        cell["source"] = make_student.to_lines(source)
    return make_student.dump(nb)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, metavar="DEST")
    parser.add_argument("--parlab", type=Path, default=ROOT, metavar="PATH",
                        help="the parlab checkout the students' kernels load (default: this one)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"nbgrader's limit per cell (default {DEFAULT_TIMEOUT}: a cold first "
                             f":dep; nbgrader's own is {NBGRADER_TIMEOUT})")
    args = parser.parse_args(argv)
    if args.timeout < NBGRADER_TIMEOUT:
        print(f"[nbgrader] error: --timeout {args.timeout}: below nbgrader's own "
              f"{NBGRADER_TIMEOUT} s, the first :dep alone takes longer", file=sys.stderr)
        return 2
    if not (args.parlab / "Cargo.toml").is_file():
        print(f"[nbgrader] error: {args.parlab}: no Cargo.toml (not a parlab checkout)", file=sys.stderr)
        return 2
    dest = args.dest.resolve()
    names = []
    for solution in make_student.solutions():
        name = solution.name.replace(".solution.ipynb", "")
        folder = dest / "source" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.ipynb").write_text(source_notebook(solution, args.parlab.resolve()))
        names.append(name)
    (dest / "nbgrader_config.py").write_text(
        CONFIG.format(root=str(dest), timeout=args.timeout))
    print(f"[nbgrader] {len(names)} assignments in {dest}/source/, config {dest}/nbgrader_config.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
