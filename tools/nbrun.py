#!/usr/bin/env python3
"""Executes notebooks headlessly in the real `rust` kernel (evcxr_jupyter) and
fails for real.

evcxr catches a panic in a cell and reports the cell as successful by default,
so a failing `assert_eq!` would pass a naive nbclient run. This runner

* starts the kernel with an evcxr configuration used only here
  (`EVCXR_CONFIG_DIR` -> an `evcxr.toml` with `preserve_vars_on_panic = false`),
  so a panic kills evcxr's subprocess and the cell errors;
* treats an `error` output, an error reply, or stderr containing `panicked at`
  as a failure, and stops the notebook at the first failing cell;
* fails a cell whose top level returned `Err` through `?`. evcxr (0.22) wraps
  such a cell in a closure and converts the error with a generated
  `impl<T: Display> From<T> for EvcxrUserCodeError` that does
  `eprintln!("{}", error)` then `println!("{}", evcxr_internal_runtime::
  USER_ERROR_OCCURRED)`; the kernel swallows that stdout line and reports
  success, so all a client sees is the error's Display text on stderr,
  indistinguishable from an ordinary `eprintln!`. The runner's evcxr
  configuration therefore has a prelude that shadows `println!` with a macro
  forwarding every call to `std::println!` unchanged, except that exact
  generated call, where it first prints QUESTION_MARK_MARKER on stderr;
* names the notebook, the cell number and the first lines of the error.

Executed copies and HTML renderings go to --out (target/notebooks/). Notebooks
run one after another, sharing a persistent EVCXR_TMPDIR, so ndarray, rayon and
plotters are compiled once, not once per notebook; a lock file keeps two runners
from using that directory at the same time.

Usage: nbrun.py [--out DIR] [--timeout SECONDS] [--tmpdir DIR] NOTEBOOK...
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import queue
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "target"
# Printed on stderr, right after the error's text, when a cell's top level
# returns `Err` through `?` (see the prelude below).
QUESTION_MARK_MARKER = "[nbrun] the cell returned Err through `?`: the error is printed above"
# evcxr 0.22 generates, for a cell that uses `?` at its top level,
#     impl<T: Display> From<T> for EvcxrUserCodeError {
#         fn from(error: T) -> Self {
#             eprintln!("{}", error);
#             println!("{}", evcxr_internal_runtime::USER_ERROR_OCCURRED);
#             EvcxrUserCodeError {}
#         }
#     }
# and its parent process swallows that stdout line. This macro, a persistent
# item of the session (defined before the generated code, so in its textual
# scope), forwards every `println!` to std's unchanged, except that exact call,
# where it also writes the marker on stderr, after the error's text.
PRELUDE = """\
#[allow(unused_macros)]
macro_rules! println {
    ("{}", evcxr_internal_runtime::USER_ERROR_OCCURRED) => {{
        ::std::eprintln!("%s");
        ::std::println!("{}", evcxr_internal_runtime::USER_ERROR_OCCURRED);
    }};
    ($($arg:tt)*) => { ::std::println!($($arg)*) };
}
""" % QUESTION_MARK_MARKER
# The marker goes into a Rust string literal used as a format string, as is.
assert not set('"\\{}') & set(QUESTION_MARK_MARKER)
EVCXR_TOML = """\
# Written by tools/nbrun.py for headless runs only: a panic in a cell must fail
# the cell instead of being caught and reported as success, and a cell that
# returns Err through `?` must say so (the prelude; see tools/nbrun.py).
[evcxr]
preserve_vars_on_panic = false
prelude = %s
""" % json.dumps(PRELUDE)
ERROR_LINES = 12
# How long the kernel must stay quiet after a cell before the next one starts
# (see collect_late_outputs): 175 code cells in notebooks/ cost 17 s more.
LATE_OUTPUT_QUIET = 0.1


@dataclass
class Result:
    notebook: Path
    cells: int = 0
    executed: int = 0
    seconds: float = 0.0
    failure: str | None = None
    failed_cell: int | None = None
    cell_seconds: list[float] = field(default_factory=list)
    # (cell number, exercise, status) of every parlab exercise check shown
    checks: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None


# Opt-in, off by default: PARLAB_EVCXR_CACHE=MiB turns on evcxr's `:cache`
# (the outputs of the registry dependencies' rustc calls, kept in
# XDG_CACHE_HOME/evcxr, keyed by the arguments with the build directory masked
# out), so a kernel with a new build directory copies ndarray, rayon, plotters
# and serde instead of compiling them. Off by default: not yet run over every
# notebook, and evcxr updates a cache entry's hit counter without a lock.
CACHE_ENV = "PARLAB_EVCXR_CACHE"
EVCXR_CACHE_HOME = TARGET / "evcxr-cache"


def write_if_changed(path: Path, text: str) -> None:
    """Written only when it changes, and atomically: a kernel of another
    runner (./lab grade --jobs N) may be reading it at this moment."""
    if not path.exists() or path.read_text() != text:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)


def cache_megabytes() -> int | None:
    value = os.environ.get(CACHE_ENV, "").strip()
    if value in ("", "0", "off"):
        return None
    try:
        megabytes = int(value)
    except ValueError:
        raise SystemExit(f"{CACHE_ENV}={value!r}: a size in MiB (for example 2000), or 0 for off")
    return megabytes if megabytes > 0 else None


def evcxr_environment(tmpdir: Path) -> None:
    """Points the kernel that nbclient starts at the runner's evcxr config and
    at a persistent build directory. The kernel inherits this process's env."""
    cache = cache_megabytes()
    config = TARGET / ("evcxr-config" if cache is None else "evcxr-config-cache")
    config.mkdir(parents=True, exist_ok=True)
    write_if_changed(config / "evcxr.toml", EVCXR_TOML)
    if cache is not None:
        write_if_changed(config / "init.evcxr", f":cache {cache}\n")
        EVCXR_CACHE_HOME.mkdir(parents=True, exist_ok=True)
        os.environ["XDG_CACHE_HOME"] = str(EVCXR_CACHE_HOME)
    tmpdir.mkdir(parents=True, exist_ok=True)
    os.environ["EVCXR_CONFIG_DIR"] = str(config)
    os.environ["EVCXR_TMPDIR"] = str(tmpdir)
    # Short failure messages: the panic message, not a 60-line backtrace.
    os.environ["RUST_BACKTRACE"] = "0"
    # Large arrays on huge pages, as numpy's (see lab.py HUGE_PAGES_TUNABLE).
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" not in tunables:
        os.environ["GLIBC_TUNABLES"] = (tunables + ":" if tunables else "") + "glibc.malloc.hugetlb=1"


def first_lines(text: str, n: int = ERROR_LINES) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    more = len(lines) - n
    shown = "\n".join("    " + line for line in lines[:n])
    return shown + (f"\n    … ({more} more lines)" if more > 0 else "")


def strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def cell_failure(cell, reply: dict | None) -> str | None:
    """The error text of a cell that failed, or None when it passed.

    A panic shows up twice: evcxr's error output ("Subprocess terminated …")
    and the panic message on stderr. Both are returned, stderr first, as that
    is where the assertion's message is."""
    stderr = "".join(
        out.get("text", "")
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    )
    stderr = strip_ansi(stderr)
    panic = ""
    if "panicked at" in stderr:
        start = stderr.rfind("\n", 0, stderr.index("panicked at")) + 1
        panic = stderr[start:].split("stack backtrace:")[0].strip()
    errors = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = "\n".join(out.get("traceback") or []).strip()
            errors.append(strip_ansi(text or f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"))
    if not errors and reply is not None and reply.get("content", {}).get("status") == "error":
        content = reply["content"]
        errors.append(strip_ansi(
            "\n".join(content.get("traceback") or [])
            or f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
        ))
    if not errors and not panic and QUESTION_MARK_MARKER in stderr:
        errors.append(question_mark_error(stderr))
    if not errors and not panic:
        shown_as_debug = debug_display(cell)
        if shown_as_debug:
            errors.append(shown_as_debug)
    if not errors and not panic:
        return None
    return "\n".join(part for part in [panic, *errors] if part)


# A parlab value that evcxr showed with `Debug` instead of its own display:
# the chart or table never reaches the reader. (evcxr does that to the first
# cell of a kernel that ends in `expr?`; `let x = expr?; x` displays.)
DEBUG_SHOWN = re.compile(r"^(Svg\(\"|Png \{ bytes|Html\(\")")


def debug_display(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") not in ("execute_result", "display_data"):
            continue
        data = out.get("data", {})
        text = data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        if set(data) == {"text/plain"} and DEBUG_SHOWN.match(text):
            return (f"the cell's value was shown as Debug text ({text[:30]}…), not as the chart or "
                    "table it is: evcxr does this to the first cell of a kernel that ends in `expr?` — "
                    "write `let x = expr?;` and end the cell with `x`")
    return None


def question_mark_error(stderr: str) -> str:
    """The error text a `?` printed (the stderr lines just before the marker,
    after anything the cell printed on stderr itself), and what happened."""
    before = stderr[: stderr.index(QUESTION_MARK_MARKER)]
    lines = [line for line in before.splitlines() if line.strip()]
    shown = "\n".join(lines[-(ERROR_LINES - 1):]) if lines else "(an error with an empty message)"
    return f"{shown}\nthe cell returned Err through `?` (evcxr reports that as success)"


async def collect_late_outputs(client, cell, index: int, reply: dict | None) -> None:
    """Adds to the cell the outputs the kernel sent after it said it was idle.

    evcxr forwards its subprocess's stderr from another thread, which may
    publish a line after the execution is complete (seen on a loaded machine:
    the `?` error's lines and a second `eprintln!` line went missing). nbclient
    stops listening at "idle", so such a line would be lost, or, once the next
    cell has started, shown in that cell. Waits until the kernel has been quiet
    for LATE_OUTPUT_QUIET seconds and keeps the late outputs of this cell."""
    if reply is None:
        return
    msg_id = reply.get("parent_header", {}).get("msg_id")
    while True:
        try:
            msg = await client.kc.iopub_channel.get_msg(timeout=LATE_OUTPUT_QUIET)
        except queue.Empty:
            return
        if msg["parent_header"].get("msg_id") != msg_id or msg["msg_type"] == "status":
            continue
        try:
            client.process_message(msg, cell, index)
        except CellExecutionComplete:
            pass


async def execute(path: Path, timeout: int) -> tuple[Result, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    result = Result(notebook=path)
    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    result.cells = len(code_cells)
    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply

    client = NotebookClient(
        nb,
        kernel_name="rust",
        timeout=timeout,
        startup_timeout=180,
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=on_cell_executed,
    )
    started = time.monotonic()
    try:
        async with client.async_setup_kernel():
            msg_id = client.kc.kernel_info()
            info = await client.async_wait_for_reply(msg_id)
            if info is not None and "language_info" in info["content"]:
                nb.metadata["language_info"] = info["content"]["language_info"]
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                cell_started = time.monotonic()
                try:
                    await client.async_execute_cell(
                        cell, index, execution_count=client.code_cells_executed + 1
                    )
                except Exception as e:  # timeouts, a dead kernel
                    error = f"{type(e).__name__}: {e}"
                else:
                    await collect_late_outputs(client, cell, index, replies.get(index))
                    error = cell_failure(cell, replies.get(index))
                result.cell_seconds.append(time.monotonic() - cell_started)
                result.executed += 1
                if error is not None:
                    result.failed_cell = index + 1
                    source = cell.source.strip().splitlines()[0][:80]
                    result.failure = (
                        f"{rel(path)}, cell {index + 1} (`{source}`) failed:\n"
                        f"{first_lines(error)}"
                    )
                    break
    except Exception as e:  # the kernel did not start
        result.failure = f"{rel(path)}: kernel error: {type(e).__name__}: {e}"
    result.seconds = time.monotonic() - started
    collect_checks(nb, result)
    check_policy(path, result)
    return result, nb


CHECK = re.compile(r'data-parlab-check="([a-z-]+)" data-exercise="([^"]*)"')


def collect_checks(nb, result: Result) -> None:
    """Reads the exercise checks that cells displayed (parlab::exercise)."""
    for index, cell in enumerate(nb.cells):
        seen = {}
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            for status, exercise in CHECK.findall(html):
                seen[exercise] = status  # a later display of the same check replaces it
        result.checks.extend((index + 1, ex, st) for ex, st in seen.items())


def check_policy(path: Path, result: Result) -> None:
    """In a solution notebook every check must pass; in a student notebook
    (one with a sibling .solution.ipynb) every check must say "not done yet";
    in any notebook a failed check fails it."""
    if result.failure is not None:
        return
    is_solution = path.name.endswith(".solution.ipynb")
    is_student = path.with_name(path.stem + ".solution.ipynb").exists()
    if (is_solution or is_student) and not result.checks:
        result.failure = f"{rel(path)}: no exercise check was displayed"
        return
    for cell, exercise, status in result.checks:
        wanted = "passed" if is_solution else "not-done" if is_student else None
        if status == "failed" or (wanted is not None and status != wanted):
            kind = "solution" if is_solution else "student" if is_student else "notebook"
            result.failure = (
                f"{rel(path)}, cell {cell}: exercise {exercise} reports {status!r} "
                f"in a {kind} notebook (expected {wanted or 'no failure'})"
            )
            result.failed_cell = cell
            return


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def render(nb: nbformat.NotebookNode, stem: str, out: Path) -> None:
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / f"{stem}.ipynb")
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    tmp = out / f".{stem}.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out / f"{stem}.html")


def run_notebook(path: Path, out: Path | None, timeout: int = 1200) -> Result:
    result, nb = asyncio.run(execute(path, timeout))
    if out is not None:
        render(nb, path.stem, out)
    return result


def bad_inputs(paths: list[Path]) -> list[str]:
    """One line for each path that is not a readable Jupyter notebook."""
    problems = []
    for path in paths:
        if not path.exists():
            problems.append(f"{path}: no such file")
        elif not path.is_file():
            problems.append(f"{path}: not a file")
        else:
            try:
                nb = nbformat.read(path, as_version=4)
                nbformat.validate(nb)
            except Exception as e:  # JSON, encoding and schema errors alike
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                problems.append(f"{path}: not a valid notebook ({first[:160]})")
    return problems


def lock_tmpdir(tmpdir: Path):
    """Waits until no other runner (nbrun, grade) uses `tmpdir`; the lock is
    held while the returned file stays open."""
    lock = open(tmpdir.parent / f"{tmpdir.name}.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting: another runner is using {tmpdir}", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=TARGET / "notebooks")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    parser.add_argument("--tmpdir", type=Path, default=TARGET / "evcxr-tmp")
    args = parser.parse_args(argv)
    problems = bad_inputs(args.notebooks)
    if problems:
        for line in problems:
            print(f"[nbrun] error: {line}", file=sys.stderr)
        return 2

    evcxr_environment(args.tmpdir)
    lock = lock_tmpdir(args.tmpdir)  # noqa: F841 (held until exit)

    results = []
    for path in args.notebooks:
        print(f"[nbrun] {rel(path)} …", flush=True)
        result = run_notebook(path.resolve(), args.out, args.timeout)
        status = "ok" if result.ok else "FAILED"
        print(f"[nbrun] {rel(path)}: {status} in {result.seconds:.1f} s", flush=True)
        if not result.ok:
            print(result.failure, file=sys.stderr, flush=True)
        results.append(result)

    width = max(len(rel(r.notebook)) for r in results)
    print()
    print(f"{'notebook':<{width}}  {'cells':>5}  {'seconds':>8}  status")
    for r in results:
        status = "ok" if r.ok else f"FAILED at cell {r.failed_cell}"
        if r.ok and r.checks:
            counts = {}
            for _, _, st in r.checks:
                counts[st] = counts.get(st, 0) + 1
            status += " (checks: " + ", ".join(f"{n} {st}" for st, n in sorted(counts.items())) + ")"
        print(f"{rel(r.notebook):<{width}}  {r.cells:>5}  {r.seconds:8.1f}  {status}")
    total = sum(r.seconds for r in results)
    print(f"{'total':<{width}}  {sum(r.cells for r in results):>5}  {total:8.1f}")
    print(f"executed notebooks and HTML: {rel(args.out)}/")
    summary = [
        {"notebook": rel(r.notebook), "cells": r.cells, "seconds": round(r.seconds, 2),
         "ok": r.ok, "failure": r.failure,
         "cell_seconds": [round(s, 2) for s in r.cell_seconds]}
        for r in results
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")

    failed = [r for r in results if not r.ok]
    if failed:
        print(file=sys.stderr)
        for r in failed:
            print(r.failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
