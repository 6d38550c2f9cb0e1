#!/usr/bin/env python3
"""Generates the student notebooks from the solution notebooks.

For every notebooks/NN-name.solution.ipynb this writes notebooks/NN-name.ipynb,
in which each solution region of a code cell

    // BEGIN SOLUTION: todo!("split the rows into chunks")
    ...the solution...
    // END SOLUTION

becomes the stub named after the colon (indented like the marker) — or, when
the region holds lines that start with `//|`, those lines without their `//| `
(a starting point of several lines: code that does not compile yet) — and each
markdown region between <!-- BEGIN SOLUTION --> and <!-- END SOLUTION --> is
dropped. Outputs and execution counts are cleared.

    python3 tools/make_student.py           # write the student notebooks
    python3 tools/make_student.py --check   # fail if one is out of date
    python3 tools/make_student.py --nbgrader

With --nbgrader the solution notebooks are stamped first (in place) with the
cell metadata nbgrader reads (see nbgrader_metadata): each check cell becomes
a locked, graded test cell worth one point, named after its exercise
(`grade_id` `ex1_1-chunk_bounds`), and marked not editable or deletable in
JupyterLab; each cell with a solution region becomes a solution cell. A
notebook stamped once is stamped again on every later run (a new exercise
gets its metadata too); student notebooks carry the same metadata.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BEGIN = re.compile(r"^(\s*)// BEGIN SOLUTION(?::\s*(.*))?$")
END = re.compile(r"^\s*// END SOLUTION\s*$")
STUDENT_LINE = re.compile(r"^(\s*)//\|(?: (.*)|)$")
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"


CHECK_CALL = re.compile(r"\bexercise::(check_\w+)\s*\(")
EXERCISE_SRC = ROOT / "src" / "exercise"
POINTS = 1


class MarkerError(Exception):
    pass


def exercise_names(src: Path = EXERCISE_SRC) -> dict[str, str]:
    """`check_chunk_bounds` -> `1.1 chunk_bounds`, read from the checkers'
    source (each `pub fn check_…` ends in `finish("1.1 chunk_bounds", …)`)."""
    names = {}
    for path in sorted(src.glob("*.rs")):
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"pub fn (check_\w+)", text)]
        for k, (start, name) in enumerate(starts):
            end = starts[k + 1][0] if k + 1 < len(starts) else len(text)
            m = re.search(r'finish\(\s*"([^"]+)"', text[start:end])
            if m:
                names[name] = m.group(1)
    return names


def grade_id(exercise: str) -> str:
    """`1.1 chunk_bounds` -> `ex1_1-chunk_bounds` (nbgrader ids: letters,
    digits, `_` and `-`)."""
    number, _, name = exercise.partition(" ")
    return "ex" + number.replace(".", "_") + ("-" + re.sub(r"[^A-Za-z0-9_]", "_", name) if name else "")


def nbgrader_metadata(nb: dict, names: dict[str, str] | None = None) -> dict:
    """Stamps the cells of a solution notebook (in place; returns it): a
    check cell is an autograder test (graded, locked, POINTS), a cell with a
    solution region a solution cell named after the check that follows it."""
    names = exercise_names() if names is None else names
    pending = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        meta = cell.setdefault("metadata", {})
        if "BEGIN SOLUTION" in source:
            pending.append(meta)
            continue
        calls = CHECK_CALL.findall(source)
        if not calls:
            continue
        exercise = names.get(calls[0], calls[0].removeprefix("check_"))
        gid = grade_id(exercise)
        meta["nbgrader"] = {
            "grade": True, "grade_id": gid, "locked": True, "points": POINTS,
            "schema_version": 3, "solution": False, "task": False,
        }
        meta["editable"] = False
        meta["deletable"] = False
        for k, answer in enumerate(pending):
            answer["nbgrader"] = {
                "grade": False, "grade_id": f"{gid}-answer" + (f"-{k + 1}" if k else ""),
                "locked": False, "schema_version": 3, "solution": True, "task": False,
            }
        pending = []
    return nb


def stamped(nb: dict) -> bool:
    return any("nbgrader" in c.get("metadata", {}) for c in nb["cells"])


def strip_code(source: str, where: str) -> str:
    out, inside = [], False
    for line in source.split("\n"):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise MarkerError(f"{where}: BEGIN SOLUTION inside another solution")
            inside = True
            indent, stub, named, given = m.group(1), m.group(2) or 'todo!()', m.group(2), []
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"{where}: END SOLUTION without BEGIN")
            if given and named:
                raise MarkerError(f"{where}: a solution region with both a stub after the colon and //| lines")
            out.extend(given or [f"{indent}{stub}"])
            inside = False
            continue
        if inside:
            s = STUDENT_LINE.match(line)
            if s:
                given.append(s.group(1) + (s.group(2) or ""))
        else:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: BEGIN SOLUTION without END")
    return "\n".join(out)


def strip_markdown(source: str, where: str) -> str:
    while MD_BEGIN in source:
        start = source.index(MD_BEGIN)
        end = source.find(MD_END, start)
        if end < 0:
            raise MarkerError(f"{where}: {MD_BEGIN} without {MD_END}")
        source = source[:start] + source[end + len(MD_END):]
    return source


def to_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def stamped_solution(solution: Path, force: bool = False) -> str | None:
    """The solution notebook's text with its nbgrader metadata brought up to
    date, when it is stamped already (or `force`); None otherwise."""
    nb = json.loads(solution.read_text())
    if not (force or stamped(nb)):
        return None
    return dump(nbgrader_metadata(nb))


def student_of(solution: Path, text: str | None = None) -> tuple[Path, str]:
    nb = json.loads(solution.read_text() if text is None else text)
    for i, cell in enumerate(nb["cells"], 1):
        source = "".join(cell["source"])
        where = f"{solution.name} cell {i}"
        if cell["cell_type"] == "code":
            cell["source"] = to_lines(strip_code(source, where))
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell["cell_type"] == "markdown":
            cell["source"] = to_lines(strip_markdown(source, where))
    target = solution.with_name(solution.name.replace(".solution.ipynb", ".ipynb"))
    return target, dump(nb)


def solutions() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.solution.ipynb"))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    force = "--nbgrader" in argv
    stale = []
    for solution in solutions():
        meta = stamped_solution(solution, force)
        if meta is not None and meta != solution.read_text():
            if check:
                stale.append(solution.name)
            else:
                solution.write_text(meta)
                print(f"stamped {solution.relative_to(ROOT)} with nbgrader metadata")
        target, text = student_of(solution)
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
        else:
            if not target.exists() or target.read_text() != text:
                target.write_text(text)
                print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("out of date (run python3 tools/make_student.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
