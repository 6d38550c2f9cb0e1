#!/usr/bin/env python3
"""Authoring aid: writes clean notebooks from plain text.

    python3 tools/nbtext.py SOURCE.txt notebooks/NN-name.solution.ipynb [...]

SOURCE.txt holds cells, each starting with a line `%% md` or `%% code`. The
notebook is written without outputs, with the `rust` kernelspec. Then run
`python3 tools/make_student.py` to regenerate the student notebooks. The
.ipynb files are the source of truth; this is only a convenience for writing
a new notebook in an editor.
"""
import json, sys
def convert(src):
    cells, kind, buf = [], None, []
    def flush():
        if kind is None: return
        text = "\n".join(buf).strip("\n")
        lines = text.split("\n")
        source = [l + "\n" for l in lines[:-1]] + [lines[-1]]
        if kind == "md":
            cells.append({"cell_type": "markdown", "metadata": {}, "source": source})
        else:
            cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})
    for line in src.split("\n"):
        if line.startswith("%% "):
            flush(); kind = line[3:].strip(); buf = []
        else:
            buf.append(line)
    flush()
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"},
            "language_info": {"codemirror_mode": "rust", "file_extension": ".rs", "mimetype": "text/rust", "name": "Rust", "pygment_lexer": "rust", "version": ""}},
            "nbformat": 4, "nbformat_minor": 5}
for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):
    nb = convert(open(src).read())
    for i, c in enumerate(nb["cells"]): c["id"] = f"c{i:02d}"
    open(dst, "w").write(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
