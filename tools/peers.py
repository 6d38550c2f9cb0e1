#!/usr/bin/env python3
"""parlab's kernels next to numpy and numba on this machine: `./lab peers`.

Runs under .venv-peers/ (numpy, numba, threadpoolctl pinned in
tools/requirements-peers.txt; `./lab peers` creates it and builds the two
workers). parlab runs in two long-lived worker processes, examples/peers.rs
built with `--release` and with `--profile notebook` (what evcxr cells get);
numpy and numba run here, on the same arrays (same sizes, dtypes and values).

For each round, for each case and thread count, every implementation runs in a
shuffled order, each measurement the median of `calls` timed calls after one
warm-up call (calls chosen so that a measurement takes ≈ 100 ms); the figure
kept for an implementation is the median over rounds. The limit loops (a
streaming-store add, a parallel read) run in the same rounds. Before timing,
one call of every implementation is checked against the expected result.

Threads: parlab runs on a rayon pool of t threads (serial kernels for t = 1),
numba with numba.set_num_threads(t), numpy's BLAS limited to t threads with
threadpoolctl (numpy's add, triad and sum are single-threaded whatever t).

Usage: peers.py [--rounds N] [--threads 1,2] [--quick] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The environment the notebooks' kernel gets from ./lab (tools/lab.py): glibc
# asks for huge pages on large allocations, so `Array2::zeros` gets them.
NOTEBOOK_ENV = {"PARLAB_PEERS_ARRAYS": "ndarray", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
# name: (executable, environment). Arrays as numpy makes them (parlab::mem:
# huge pages asked for) and as the notebooks make them (Array2::zeros in a
# kernel started as ./lab starts it).
WORKERS = {
    "parlab (release, parlab::mem arrays)": (
        ROOT / "target" / "release" / "examples" / "peers", {"PARLAB_PEERS_ARRAYS": "mem"}),
    "parlab (release, notebook arrays)": (
        ROOT / "target" / "release" / "examples" / "peers", NOTEBOOK_ENV),
    "parlab (notebook build and arrays)": (
        ROOT / "target" / "notebook" / "examples" / "peers", NOTEBOOK_ENV),
}
RELEASE, RELEASE_NB, NOTEBOOK = WORKERS
TRIAD_S = 3.0  # a = b + s·c, as in examples/peers.rs


@dataclass(frozen=True)
class Case:
    name: str  # the worker's case name
    kernel: str
    dtype: str  # "f32" or "f64"
    n: int  # arrays are n×n
    limit: str | None = None  # the limit loop it is compared with
    limit_factor: int = 1  # limit time = factor × the limit loop's time


CASES = [
    Case("add_f32_1024", "add", "f32", 1024),
    Case("triad_f32_1024", "triad", "f32", 1024),
    Case("sum_f32_1024", "sum", "f32", 1024),
    Case("dot_f32_1024", "dot", "f32", 1024),
    # triad moves the same bytes as add (two reads, one write)
    Case("add_f64_4096", "add", "f64", 4096, "limit_add_f64_4096"),
    Case("triad_f64_4096", "triad", "f64", 4096, "limit_add_f64_4096"),
    Case("sum_f64_4096", "sum", "f64", 4096, "limit_read_f64_4096"),
    # dot reads two arrays: twice the read limit
    Case("dot_f64_4096", "dot", "f64", 4096, "limit_read_f64_4096", 2),
    Case("matmul_f64_1024", "matmul", "f64", 1024),
]
LIMITS = ["limit_add_f64_4096", "limit_add_ordinary_f64_4096", "limit_read_f64_4096"]
# The limit of an add or triad that kept ordinary stores.
ORDINARY_LIMIT = {"limit_add_f64_4096": "limit_add_ordinary_f64_4096"}
LIMIT_IMPL = RELEASE  # the limit loops run in the release worker


class PeersError(Exception):
    pass


# ------------------------------------------------------------ pure helpers


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./lab peers", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of interleaved measurements (default 5; 1 with --quick)")
    parser.add_argument("--threads", type=parse_threads, default=[1, 2],
                        help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 1 round, ≈ 20 ms per measurement")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    args.target_s = 0.02 if args.quick else 0.1
    return args


def parse_threads(text: str) -> list[int]:
    try:
        threads = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected thread counts like 1,2, got {text!r}") from None
    if not threads or any(t < 1 for t in threads):
        raise argparse.ArgumentTypeError(f"thread counts must be at least 1, got {text!r}")
    return sorted(set(threads))


def calls_for(seconds_per_call: float, target_s: float) -> int:
    """Calls that make one measurement last ≈ target_s (at least 3)."""
    if seconds_per_call <= 0:
        return 1000
    return max(3, min(5000, round(target_s / seconds_per_call)))


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs" if s >= 1e-4 else f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms" if s < 1e-2 else f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_ratio(r: float | None, who: str | None = None) -> str:
    if r is None:
        return "—"
    return f"{r:.2f}×" + (f" ({who})" if who else "")


def machine_from_cpuinfo(text: str) -> dict:
    """CPU model, family/model numbers and counts from /proc/cpuinfo text."""
    fields: dict[str, str] = {}
    logical = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "processor":
            logical += 1
        fields.setdefault(key, value.strip())
    return {
        "model": fields.get("model name", platform.processor() or "unknown CPU"),
        "family": fields.get("cpu family"),
        "model_number": fields.get("model"),
        "cores": fields.get("cpu cores"),
        "logical": logical or os.cpu_count(),
    }


def machine_line(m: dict) -> str:
    ident = ""
    if m.get("family") is not None:
        ident = f" (family {m['family']}, model {m['model_number']})"
    cores = f", {m['cores']} cores" if m.get("cores") else ""
    return f"{m['model']}{ident}, {m['logical']} logical CPUs{cores}"


def spread(values: list[float]) -> float:
    """(max − min) / median of one implementation's per-round medians."""
    return (max(values) - min(values)) / statistics.median(values)


# ----------------------------------------------------------------- workers


class Worker:
    """One examples/peers.rs process: a command line in, a JSON line out."""

    def __init__(self, name: str, exe: Path, env: dict | None = None):
        if not exe.exists():
            raise PeersError(f"{exe.relative_to(ROOT)} is missing: run ./lab peers (it builds it)")
        self.name = name
        self.proc = subprocess.Popen(
            [str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, **(env or {})},
        )

    def ask(self, line: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise PeersError(f"{self.name}: the worker exited (status {self.proc.wait()}) on {line!r}")
        reply = json.loads(answer)
        if "error" in reply:
            raise PeersError(f"{self.name}: {line!r}: {reply['error']}")
        return reply

    def time(self, case: str, threads: int, calls: int) -> float:
        return self.ask(f"{case} {threads} {calls}")["median_s"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


# ------------------------------------------------------------ numpy, numba


class Peers:
    """numpy and numba versions of the cases, on arrays equal to parlab's."""

    def __init__(self):
        import numba
        import numpy as np
        from numba import njit, prange
        from threadpoolctl import threadpool_info, threadpool_limits

        self.np, self.numba = np, numba
        self.threadpool_limits = threadpool_limits
        self.blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        self.max_numba_threads = numba.config.NUMBA_NUM_THREADS
        self.data: dict[str, tuple] = {}

        @njit(parallel=True)
        def nb_add(a, b, c):
            for i in prange(a.shape[0]):
                c[i] = a[i] + b[i]

        @njit(parallel=True)
        def nb_triad(a, b, c, s):  # a = b + s·c
            for i in prange(a.shape[0]):
                a[i] = b[i] + s * c[i]

        def reductions(zero):
            # fastmath lets the reduction be vectorised (reassociated), as
            # parlab's blocked sums are; without it numba adds one at a time.
            @njit(parallel=True, fastmath=True)
            def nb_sum(a):
                s = zero
                for i in prange(a.shape[0]):
                    s += a[i]
                return s

            @njit(parallel=True, fastmath=True)
            def nb_dot(a, b):
                s = zero
                for i in prange(a.shape[0]):
                    s += a[i] * b[i]
                return s

            return nb_sum, nb_dot

        self.nb_add, self.nb_triad = nb_add, nb_triad
        self.nb_reductions = {"f32": reductions(np.float32(0)), "f64": reductions(np.float64(0))}

    def arrays(self, case: Case):
        """x, y, z as examples/peers.rs makes them (flat views too)."""
        if case.name not in self.data:
            np = self.np
            dt = np.float32 if case.dtype == "f32" else np.float64
            n = case.n
            if case.kernel == "matmul":
                i, j = np.indices((n, n))
                x = ((i + 2 * j) % 7 - 3).astype(dt)
                y = ((3 * i + j) % 5 - 2).astype(dt)
                del i, j
            else:
                idx = np.arange(n * n)
                # computed in f64, then rounded to the dtype, as in the worker
                x = ((idx % 1000) / 1000.0).astype(dt).reshape(n, n)
                y = (idx % 7 + 1).astype(dt).reshape(n, n)
                del idx
            z = np.zeros((n, n), dt)
            self.data[case.name] = (x, y, z)
        return self.data[case.name]

    def numpy_call(self, case: Case):
        np = self.np
        x, y, z = self.arrays(case)
        s = x.dtype.type(TRIAD_S)
        if case.kernel == "add":
            return lambda: np.add(x, y, out=z)
        if case.kernel == "triad":
            def triad():
                np.multiply(x, s, out=z)
                np.add(z, y, out=z)
            return triad
        if case.kernel == "sum":
            return lambda: x.sum()
        if case.kernel == "dot":
            xf, yf = x.ravel(), y.ravel()
            return lambda: np.dot(xf, yf)
        if case.kernel == "matmul":
            return lambda: np.matmul(x, y, out=z)
        raise PeersError(f"no numpy version of {case.kernel}")

    def numba_call(self, case: Case):
        x, y, z = self.arrays(case)
        xf, yf, zf = x.ravel(), y.ravel(), z.ravel()
        s = x.dtype.type(TRIAD_S)
        nb_sum, nb_dot = self.nb_reductions[case.dtype]
        if case.kernel == "add":
            return lambda: self.nb_add(xf, yf, zf)
        if case.kernel == "triad":
            return lambda: self.nb_triad(zf, yf, xf, s)
        if case.kernel == "sum":
            return lambda: nb_sum(xf)
        if case.kernel == "dot":
            return lambda: nb_dot(xf, yf)
        return None  # no numba matmul

    def run(self, impl: str, case: Case, threads: int, calls: int | None):
        """Times `calls` calls after a warm-up (median seconds), or, with
        calls None, makes one call and returns what it computed."""
        if impl == "numba":
            if threads > self.max_numba_threads:
                return None
            f = self.numba_call(case)
            if f is None:
                return None
            self.numba.set_num_threads(threads)
        else:
            f = self.numpy_call(case)
        with self.threadpool_limits(limits=threads, user_api="blas"):
            value = f()
            if calls is None:
                return value
            samples = []
            for _ in range(calls):
                t = time.perf_counter()
                f()
                samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    def numba_threading_layer(self) -> str:
        try:
            return self.numba.threading_layer()
        except ValueError:
            return "not yet chosen"


# ----------------------------------------------------------- verification


def expected(case: Case, peers: Peers) -> dict:
    """What every implementation must compute, from the inputs in float64."""
    np = peers.np
    x, y, _ = peers.arrays(case)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    if case.kernel == "sum":
        return {"value": math.fsum(x64.ravel())}
    if case.kernel == "dot":
        return {"value": math.fsum((x64 * y64).ravel())}
    if case.kernel == "add":
        z = (x + y).ravel()  # each element rounded once, in the dtype
    elif case.kernel == "triad":
        z = (y + x.dtype.type(TRIAD_S) * x).ravel()
    else:
        z = (x64 @ y64).ravel()  # small integers: exact
    n = z.size
    at = [0, 1, n // 3, n // 2, n - 1]
    return {"indices": at, "values": [float(z[i]) for i in at],
            "checksum": math.fsum(z.astype(np.float64))}


def compare(case: Case, who: str, got: dict, want: dict) -> None:
    tol = 1e-4 if case.dtype == "f32" else 1e-9
    if "value" in want:
        if not math.isclose(got["value"], want["value"], rel_tol=tol):
            raise PeersError(f"{case.name}: {who} computed {got['value']!r}, expected {want['value']!r}"
                             f" (relative tolerance {tol})")
        return
    if got["values"] != want["values"]:
        raise PeersError(f"{case.name}: {who} wrote {got['values']} at {want['indices']}, "
                         f"expected {want['values']}")
    if not math.isclose(got["checksum"], want["checksum"], rel_tol=1e-9):
        raise PeersError(f"{case.name}: {who}'s output sums to {got['checksum']!r}, "
                         f"expected {want['checksum']!r}")


def check_all(workers: dict[str, Worker], peers: Peers, threads: list[int]) -> None:
    np = peers.np
    for case in CASES:
        want = expected(case, peers)
        for t in threads:
            for name, w in workers.items():
                compare(case, f"{name} on {t} thread(s)", w.ask(f"check {case.name} {t}"), want)
            for impl in ("numpy", "numba"):
                peers.arrays(case)[2][...] = 0  # an output left unwritten must not pass
                value = peers.run(impl, case, t, None)
                if impl == "numba" and (case.kernel == "matmul" or t > peers.max_numba_threads):
                    continue
                if case.kernel in ("sum", "dot"):
                    got = {"value": float(value)}
                else:
                    z = peers.arrays(case)[2].ravel()
                    got = {"values": [float(z[i]) for i in want["indices"]],
                           "checksum": math.fsum(z.astype(np.float64))}
                compare(case, f"{impl} on {t} thread(s)", got, want)


# -------------------------------------------------------------- the rounds


def measure(args, workers: dict[str, Worker], peers: Peers) -> dict:
    """times[(case name, threads, implementation)] = per-round medians."""
    entries = [(c.name, impl) for c in CASES for impl in (*workers, "numpy", "numba")]
    entries += [(name, LIMIT_IMPL) for name in LIMITS]
    by_name = {c.name: c for c in CASES}
    calls: dict[tuple[str, int], int] = {}
    for name in [c.name for c in CASES] + LIMITS:
        for t in args.threads:
            one = workers[RELEASE].ask(f"{name} {t} 1")["median_s"]
            calls[(name, t)] = calls_for(one, args.target_s)
    times: dict[tuple[str, int, str], list[float]] = {}
    rng = random.Random()
    for r in range(args.rounds):
        started = time.monotonic()
        names = [c.name for c in CASES] + LIMITS
        rng.shuffle(names)
        for name in names:
            for t in args.threads:
                impls = [impl for n, impl in entries if n == name]
                rng.shuffle(impls)
                for impl in impls:
                    n_calls = calls[(name, t)]
                    time.sleep(0.02)  # let other pools' threads go to sleep
                    if impl in workers:
                        s = workers[impl].time(name, t, n_calls)
                    else:
                        s = peers.run(impl, by_name[name], t, n_calls)
                    if s is not None:
                        times.setdefault((name, t, impl), []).append(s)
        print(f"[peers] round {r + 1}/{args.rounds} done in {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)
    return times


def case_bytes(case: Case) -> int:
    """Bytes one call touches, all arrays together (as the kernels count)."""
    arrays = {"add": 3, "triad": 3, "sum": 1, "dot": 2, "matmul": 3}[case.kernel]
    return arrays * case.n * case.n * (4 if case.dtype == "f32" else 8)


def limit_for(case: Case, probe: dict) -> str | None:
    """The limit loop for the store type the kernel used at this size: an add
    or triad that streamed is judged against the streaming add, one that kept
    ordinary stores against the ordinary add."""
    if case.limit in ORDINARY_LIMIT and case_bytes(case) < probe["streaming_threshold"]:
        return ORDINARY_LIMIT[case.limit]
    return case.limit


def table(times: dict, threads: list[int], probe: dict) -> list[str]:
    def med(name, t, impl):
        v = times.get((name, t, impl))
        return statistics.median(v) if v else None

    rows = [
        "| kernel | size | threads | parlab (release, parlab::mem arrays) | parlab (release, notebook "
        "arrays) | parlab (notebook build) | numpy | numba | limit | notebook arrays ÷ best peer "
        "| ÷ limit |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in CASES:
        for t in threads:
            rel, rel_nb, nb = (med(case.name, t, w) for w in (RELEASE, RELEASE_NB, NOTEBOOK))
            npy, nba = med(case.name, t, "numpy"), med(case.name, t, "numba")
            limit, kind = None, ""
            name = limit_for(case, probe)
            if name:
                lt = med(name, t, LIMIT_IMPL)
                limit = lt * case.limit_factor if lt is not None else None
                kind = (" (ordinary stores)" if name in ORDINARY_LIMIT.values()
                        else " (streaming stores)" if name in ORDINARY_LIMIT else " (read)")
            peers = [(v, who) for v, who in ((npy, "numpy"), (nba, "numba")) if v is not None]
            best, who = min(peers) if peers else (None, None)
            vs_peer = best / rel_nb if best is not None and rel_nb else None
            vs_limit = limit / rel_nb if limit is not None and rel_nb else None
            size = f"{case.n}² {case.dtype}"
            rows.append(
                f"| {case.kernel} | {size} | {t} | {fmt_time(rel)} | {fmt_time(rel_nb)} | {fmt_time(nb)} "
                f"| {fmt_time(npy)} | {fmt_time(nba)} | {fmt_time(limit)}{kind} | {fmt_ratio(vs_peer, who)} "
                f"| {fmt_ratio(vs_limit)} |"
            )
    return rows


def spread_line(times: dict, rounds: int) -> str:
    if rounds < 2:
        return "Spread across rounds: one round only (--quick or --rounds 1), not measured."
    spreads = sorted((spread(v), key) for key, v in times.items() if len(v) >= 2)
    worst, (name, t, impl) = spreads[-1]
    typical = statistics.median(s for s, _ in spreads)
    return (f"Spread across the {rounds} rounds, (max − min) ÷ median of one implementation's "
            f"per-round medians: median {typical:.1%} over {len(spreads)} series, worst "
            f"{worst:.1%} ({impl}, {name}, {t} thread(s)).")


def load_average() -> str:
    """The 1-minute load average (other work on the machine), or "?"."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def probe_line(p: dict) -> str:
    """What parlab's quick probe found and told its kernels (each worker
    probes first, as a notebook does)."""
    mib = lambda b: f"{b / (1 << 20):.0f} MiB"
    plateau = (f"reads come from memory from ≈ {mib(p['memory_from_bytes'])}" if p["plateau_found"]
               else f"no memory plateau within {mib(p['memory_from_bytes'])}")
    stores = ("kernels keep ordinary stores (ordinary stores measured clearly faster)"
              if p["streaming_threshold"] >= 1 << 62
              else f"kernels stream write-only outputs from {mib(p['streaming_threshold'])} on")
    return (f"parlab: Machine::probe_quick() in {p['probe_s']:.2f} s; caches reported "
            f"{', '.join(p['caches']) or 'unknown'}; {plateau}; {stores}; "
            f"SIMD {p['simd']}, read width in the caches {p['cache_simd']}, in L3 {p['l3_simd']}, "
            f"from memory {p['memory_simd']}; matmul: {p['gemm']}.")


def describe(peers: Peers, machine: dict, args, load: tuple[str, str]) -> list[str]:
    import numpy

    blas = ", ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('threading_layer')}, "
        f"{b.get('architecture')} kernels, {b.get('num_threads')} threads by default)"
        for b in peers.blas
    ) or "none found by threadpoolctl"
    return [
        f"Machine: {machine_line(machine)}; Linux {platform.release()}; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; 1-minute load average {load[0]} before, "
        f"{load[1]} after the run (before: other work sharing the {machine['logical']} "
        f"CPUs; after also counts this run).",
        f"Peers: Python {platform.python_version()}, numpy {numpy.__version__} with BLAS {blas}, "
        f"limited to t threads with threadpoolctl; numba {peers.numba.__version__} "
        f"(threading layer {peers.numba_threading_layer()}), @njit(parallel=True) prange loops, "
        f"fastmath for sum and dot.",
        f"Rounds: {args.rounds}, threads: {','.join(map(str, args.threads))}; each figure the median "
        f"over rounds of the median of ≈ {args.target_s * 1e3:.0f} ms of calls. Ratios are speeds "
        f"(the other's time ÷ parlab (release)'s): ≥ 1 means parlab is faster. The limit is the "
        f"streaming-store add for add and triad (same bytes), the parallel read for sum, twice it "
        f"for dot (two arrays); an add or triad that kept ordinary stores at its size is judged "
        f"against the ordinary-store add. 'Notebook arrays': `Array2::zeros` in a process started "
        f"with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, as ./lab starts the notebooks' kernel. numpy's add, triad and sum use one thread whatever t; numpy matmul "
        f"is np.matmul(a, b, out=c); parlab with 1 thread runs the serial kernels.",
    ]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # The BLAS reads these when numpy loads it: this process only.
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    load_before = load_average()
    machine = machine_from_cpuinfo(Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else "")
    workers: dict[str, Worker] = {}
    try:
        for name, (exe, env) in WORKERS.items():
            workers[name] = Worker(name, exe, env)
        info = workers[NOTEBOOK].ask("info")
        if not info["debug_assertions"]:
            raise PeersError(f"{WORKERS[NOTEBOOK][0]} was not built with the notebook profile")
        probe = {name: w.ask("probe") for name, w in workers.items()}
        print(f"[peers] {machine_line(machine)}: making the arrays, checking every implementation",
              file=sys.stderr, flush=True)
        peers = Peers()
        check_all(workers, peers, args.threads)
        print("[peers] all implementations agree; timing", file=sys.stderr, flush=True)
        times = measure(args, workers, peers)
    except PeersError as e:
        print(f"[peers] error: {e}", file=sys.stderr)
        return 1
    finally:
        for w in workers.values():
            w.close()
    lines = describe(peers, machine, args, (load_before, load_average())) + [probe_line(probe[NOTEBOOK])] + [""] + table(times, args.threads, probe[RELEASE_NB]) + ["", spread_line(times, args.rounds)]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out is not None:
        args.out.write_text(text)
        print(f"[peers] written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
