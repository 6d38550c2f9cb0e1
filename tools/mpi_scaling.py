#!/usr/bin/env python3
"""The README's MPI figures: strong scaling of mpi_add and mpi_stencil over 1-4
ranks next to one rank with all cores as threads (shared-memory par_add /
par_box_blur), and the ping-pong probe. Prints a markdown table.

    python3 tools/mpi_scaling.py [--rows 4001 --cols 4096 --rounds 3]

Builds the examples first (cargo build --release --features mpi). Each
configuration runs `--rounds` times, interleaved (1, 2, 3, 4 ranks, threads,
then again), and the table gives the median of the rounds' medians: memory
and cores are shared with whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_mpi import EXAMPLES, ROOT, binary, report  # noqa: E402


def run(ranks: int, name: str, args: list[str]) -> dict:
    r = subprocess.run(["mpiexec", "-n", str(ranks), str(binary(name)), *args],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"mpiexec -n {ranks} {name} {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return report(r.stdout)


def med(rep: dict, phase: str) -> float:
    for p in rep["phases"]:
        if p["name"] == phase:
            return p["slowest"]["summary"]["median"]
    raise KeyError(phase)


def ms(s: float) -> str:
    return f"{1e3 * s:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="4001")
    ap.add_argument("--cols", default="4096")
    ap.add_argument("--steps", default="10")
    ap.add_argument("--rounds", type=int, default=3)
    o = ap.parse_args()
    cmd = ["cargo", "build", "--release", "--quiet", "--features", "mpi"]
    for e in EXAMPLES:
        cmd += ["--example", e]
    subprocess.run(cmd, cwd=ROOT, check=True)
    cores = os.cpu_count() or 1
    configs = [(n, 1) for n in (1, 2, 3, 4)] + [(1, cores)]
    progs = {
        "mpi_add": ["--rows", o.rows, "--cols", o.cols, "--samples", "5"],
        "mpi_stencil": ["--rows", o.rows, "--cols", o.cols, "--steps", o.steps, "--samples", "3"],
    }
    comm = {"mpi_add": ["scatter", "gather"], "mpi_stencil": ["halo"]}
    runs: dict = {}
    for _ in range(o.rounds):
        for name, args in progs.items():
            for ranks, threads in configs:
                rep = run(ranks, name, args + ["--threads", str(threads)])
                runs.setdefault((name, ranks, threads), []).append(rep)
    print(f"load average before/after: see `uptime`; {cores} cores; median of {o.rounds} interleaved rounds\n")
    print("| program | ranks × threads | compute (ms) | communication (ms) | wait (ms) | total (ms) | compute speed-up vs 1×1 |")
    print("|---|---|---|---|---|---|---|")
    for name in progs:
        base = statistics.median(med(r, "compute") for r in runs[(name, 1, 1)])
        for ranks, threads in configs:
            reps = runs[(name, ranks, threads)]
            c = statistics.median(med(r, "compute") for r in reps)
            m = statistics.median(sum(med(r, p) for p in comm[name]) for r in reps)
            w = statistics.median(med(r, "wait") for r in reps)
            t = statistics.median(med(r, "total") for r in reps)
            label = f"{ranks} × {threads}" + (" (shared memory)" if threads > 1 else "")
            print(f"| {name} | {label} | {ms(c)} | {ms(m)} | {ms(w)} | {ms(t)} | {base / c:.2f}× |")
    probe = [run(2, "mpi_probe", []) for _ in range(o.rounds)]
    four = [run(4, "mpi_probe", ["--max-bytes", "8"]) for _ in range(o.rounds)]
    lat = statistics.median(p["values"]["latency_s"] for p in probe)
    bw = statistics.median(p["values"]["bandwidth_bytes_per_s"] for p in probe)
    a2 = statistics.median(med(p, "allreduce") for p in probe)
    a4 = statistics.median(med(p, "allreduce") for p in four)
    print(f"\nping-pong, 2 ranks: {1e6 * lat:.2f} µs one way for 8 B, {bw / 1e9:.2f} GB/s for 8 MiB; "
          f"8-byte allreduce: {1e6 * a2:.2f} µs on 2 ranks, {1e6 * a4:.1f} µs on 4 ranks")


if __name__ == "__main__":
    main()
