#!/usr/bin/env python3
"""Estimates how long each course notebook takes in class, from its content.

    python3 tools/pacing.py          # a table: notebook, words, code cells, exercises, minutes

The estimate is a model, not a measurement of a class: reading the prose at
150 words a minute, one minute per code cell (read it, run it, look at what
it prints), and 10 minutes per exercise (write, check, fix once). Each
notebook's "**Time:**" line should agree with it within 10 minutes; the
command says where one does not. Replace it with times from a real dry run
with students when there is one.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS_PER_MINUTE = 150
MINUTES_PER_CODE_CELL = 1.0
MINUTES_PER_EXERCISE = 10.0
TIME = re.compile(r"\*\*Time:\*\*\s*(?:about\s+)?(\d+)(?:[–-](\d+))?\s*minutes")


def estimate(path: Path) -> dict:
    nb = json.loads(path.read_text())
    words = code = exercises = 0
    stated = None
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            words += len(re.findall(r"\w+", re.sub(r"<!--.*?-->", "", text, flags=re.S)))
            m = TIME.search(text)
            if m and stated is None:
                stated = (int(m.group(1)), int(m.group(2) or m.group(1)))
        elif cell["cell_type"] == "code":
            code += 1
            exercises += len(re.findall(r"\bexercise::check_\w+\s*\(", text))
    minutes = words / WORDS_PER_MINUTE + code * MINUTES_PER_CODE_CELL + exercises * MINUTES_PER_EXERCISE
    return {"name": path.name.replace(".solution.ipynb", "").removesuffix(".ipynb"), "words": words, "code": code,
            "exercises": exercises, "minutes": minutes, "stated": stated}


def main() -> int:
    paths = sorted((ROOT / "notebooks").glob("*.solution.ipynb")) + [ROOT / "notebooks" / "00-setup.ipynb"]
    rows = sorted((estimate(p) for p in paths if p.exists()), key=lambda r: r["name"])
    print(f"{'notebook':<24} {'words':>6} {'code':>5} {'exercises':>9} {'estimate':>9}  stated")
    off = []
    for r in rows:
        stated = "—" if r["stated"] is None else "–".join(str(v) for v in sorted(set(r["stated"])))
        print(f"{r['name']:<24} {r['words']:>6} {r['code']:>5} {r['exercises']:>9} {r['minutes']:>6.0f} min  {stated}")
        if r["stated"] and not (r["stated"][0] - 10 <= r["minutes"] <= r["stated"][1] + 10):
            off.append(r["name"])
    total = sum(r["minutes"] for r in rows)
    print(f"{'all':<24} {'':>6} {'':>5} {'':>9} {total:>6.0f} min  ({total / 60:.1f} h)")
    if off:
        print("stated time more than 10 minutes from the estimate: " + ", ".join(off))
    return 0


if __name__ == "__main__":
    sys.exit(main())
