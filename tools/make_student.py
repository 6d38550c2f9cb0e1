#!/usr/bin/env python3
"""Generates the student notebooks from the solution notebooks.

For every notebooks/NN-name.solution.ipynb this writes notebooks/NN-name.ipynb,
in which each solution region of a code cell

    // BEGIN SOLUTION: todo!("split the rows into chunks")
    ...the solution...
    // END SOLUTION

becomes the stub named after the colon (indented like the marker), and each
markdown region between <!-- BEGIN SOLUTION --> and <!-- END SOLUTION --> is
dropped. Outputs and execution counts are cleared.

    python3 tools/make_student.py           # write the student notebooks
    python3 tools/make_student.py --check   # fail if one is out of date
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
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"


class MarkerError(Exception):
    pass


def strip_code(source: str, where: str) -> str:
    out, inside = [], False
    for line in source.split("\n"):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise MarkerError(f"{where}: BEGIN SOLUTION inside another solution")
            inside = True
            indent, stub = m.group(1), m.group(2) or 'todo!()'
            out.append(f"{indent}{stub}")
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"{where}: END SOLUTION without BEGIN")
            inside = False
            continue
        if not inside:
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


def student_of(solution: Path) -> tuple[Path, str]:
    nb = json.loads(solution.read_text())
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
    return target, json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def solutions() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.solution.ipynb"))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for solution in solutions():
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
