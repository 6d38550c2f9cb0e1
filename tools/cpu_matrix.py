#!/usr/bin/env python3
"""The CPUs we do not have, tested on the one we have.

Runs the kernel case table (`tests/kernels.rs`), the property tests
(`tests/props.rs`) and the bit fingerprints (`tests/fingerprint.rs`) under
every configuration this CPU can execute:

* each SIMD level it has (`PARLAB_SIMD` for the compute loops and
  `PARLAB_CACHE_SIMD`, `PARLAB_L3_SIMD`, `PARLAB_MEMORY_SIMD` for the
  memory-bound loops in each working-set regime: SSE2 → the widest), with
  streaming stores forced on (`PARLAB_STREAMING_BYTES=0`) and off;
* each OpenBLAS kernel family that OpenBLAS 0.3.21 accepts by name and this
  CPU can run (`OPENBLAS_CORETYPE`: SkylakeX, Haswell, Zen, Sandybridge,
  Prescott), and matrixmultiply (`PARLAB_GEMM=matrixmultiply`): the matrix
  product tests only. A run checks that it got the family it asked for
  (OpenBLAS silently runs its own choice for a name it does not know).

Each run writes one fingerprint per kernel (a hash of its results' bits).
parlab's own kernels must give the same bits in every run: the width and the
store kind change how values move, never the arithmetic. The library GEMM
must give the same bits wherever the same library family ran (and the same
bits on any thread count, checked inside each run); between families only
the error bound holds, which `tests/kernels.rs` checks.

Families the CPU cannot run, or without OpenBLAS installed, are skipped with
a message. Usage: cpu_matrix.py (from the repository root; cargo on PATH).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["--test", "kernels", "--test", "props", "--test", "fingerprint"]
# The fingerprints alone (every kernel on large data, 1–3 threads): enough
# where the case table already ran with the same width.
PRINTS = ["--test", "fingerprint"]
GEMM_TESTS = ["--test", "kernels", "--test", "fingerprint", "--", "matmul", "fingerprint", "gemm_library"]
NEVER = str(2**64 - 2)  # a threshold no call reaches: streaming stores off

# What each OpenBLAS family executes, as /proc/cpuinfo flags. (Cooperlake,
# what 0.3.21 picks itself on an AVX-512 BF16 CPU, cannot be asked for by
# name in that version; it is the default run on such a CPU.)
OPENBLAS_FAMILIES = {
    "SkylakeX": {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"},
    "Haswell": {"avx2", "fma"},
    "Zen": {"avx2", "fma"},
    "Sandybridge": {"avx"},
    "Prescott": {"pni"},  # SSE3
}
SIMD_LEVELS = {
    "sse2": {"sse2"},
    "avx2": {"avx2", "fma"},
    "avx512": {"avx512f", "avx512vl"},
}


@dataclass
class Run:
    name: str
    env: dict[str, str]
    args: list[str]
    code: int | None = None
    seconds: float = 0.0
    prints: dict[str, str] | None = None
    header: str = ""
    skipped: str | None = None


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags, or None where /proc/cpuinfo does not list them."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def openblas_present() -> bool:
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libopenblas.so" in out


def plan(flags: set[str] | None, openblas: bool) -> list[Run]:
    runs: list[Run] = []
    for level, needs in SIMD_LEVELS.items():
        has = flags is not None and needs <= flags
        for streaming, threshold in (("streamed", "0"), ("ordinary stores", NEVER)):
            run = Run(
                f"{level}, {streaming}",
                {"PARLAB_SIMD": level, "PARLAB_CACHE_SIMD": level, "PARLAB_L3_SIMD": level,
                 "PARLAB_MEMORY_SIMD": level, "PARLAB_STREAMING_BYTES": threshold},
                # The case table with streaming stores forced on at each
                # width; with ordinary stores the default `cargo test` ran
                # it at the widest width, and the fingerprints compare the
                # bits of every width.
                TESTS if threshold == "0" else PRINTS,
            )
            if not has:
                run.skipped = f"this CPU has no {level} ({', '.join(sorted(needs))})"
            runs.append(run)
    for family, needs in OPENBLAS_FAMILIES.items():
        run = Run(f"OpenBLAS {family}",
                  {"OPENBLAS_CORETYPE": family, "PARLAB_EXPECT_GEMM": family}, GEMM_TESTS)
        if not openblas:
            run.skipped = "OpenBLAS is not installed (`./lab setup` installs it as root)"
        elif flags is None or not needs <= flags:
            run.skipped = f"this CPU cannot run it (needs {', '.join(sorted(needs))})"
        runs.append(run)
    runs.append(Run("matrixmultiply",
                    {"PARLAB_GEMM": "matrixmultiply", "PARLAB_EXPECT_GEMM": "matrixmultiply"},
                    GEMM_TESTS))
    return runs


def read_prints(path: Path) -> tuple[str, dict[str, str]]:
    header, prints = "", {}
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            header = line[1:].strip()
        elif line.strip():
            group, kernel, digest = line.split()
            prints[f"{group} {kernel}"] = digest
    return header, prints


def gemm_of(header: str) -> str:
    return header.split(" gemm ", 1)[1] if " gemm " in header else "?"


def compare(runs: list[Run]) -> list[str]:
    """Every disagreement of fingerprints between runs, in words."""
    problems = []
    done = [r for r in runs if r.prints]
    if not done:
        return problems
    first = done[0]
    for r in done[1:]:
        for key, digest in r.prints.items():
            if key not in first.prints:
                continue
            want = first.prints[key]
            same_library = gemm_of(r.header) == gemm_of(first.header)
            if key.startswith("own ") and digest != want:
                problems.append(f"{key[4:]}: other bits under '{r.name}' than under '{first.name}'")
            elif key.startswith("library ") and same_library and digest != want:
                problems.append(
                    f"{key[8:]}: the same library ({gemm_of(r.header)}) gave other bits "
                    f"under '{r.name}' than under '{first.name}'")
    return problems


def main() -> int:
    flags = cpu_flags()
    runs = plan(flags, openblas_present())
    # Build the test binaries once; the runs only change the environment.
    build = subprocess.run(["cargo", "test", "--no-run", "-q", *TESTS], cwd=ROOT)
    if build.returncode != 0:
        print("cpu matrix: the test binaries do not build", file=sys.stderr)
        return build.returncode
    with tempfile.TemporaryDirectory(prefix="parlab-cpu-matrix-") as tmp:
        for i, r in enumerate(runs):
            if r.skipped:
                print(f"── {r.name}: skipped, {r.skipped}", flush=True)
                continue
            out = Path(tmp) / f"run{i}.txt"
            env = {**os.environ, **r.env, "PARLAB_FINGERPRINT": str(out)}
            print(f"── {r.name}: {' '.join(f'{k}={v}' for k, v in r.env.items())}", flush=True)
            started = time.monotonic()
            proc = subprocess.run(["cargo", "test", "-q", *r.args], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            r.code, r.seconds = proc.returncode, time.monotonic() - started
            if proc.returncode != 0:
                sys.stdout.write(proc.stdout[-6000:])
                sys.stderr.write(proc.stderr[-3000:])
            if out.exists():
                r.header, r.prints = read_prints(out)
    problems = compare(runs)
    print(f"\n{'configuration':<28} {'seconds':>7}  status  (what ran)")
    for r in runs:
        status = "skipped" if r.skipped else ("ok" if r.code == 0 else f"FAILED (exit {r.code})")
        what = r.skipped if r.skipped else r.header
        print(f"{r.name:<28} {r.seconds:7.1f}  {status:<7} {what}")
    for p in problems:
        print(f"cpu matrix: {p}", file=sys.stderr)
    failed = [r for r in runs if r.code not in (None, 0)]
    ran = [r for r in runs if r.code is not None]
    print(f"cpu matrix: {len(ran) - len(failed)} passed, {len(failed)} failed, "
          f"{len(runs) - len(ran)} skipped; fingerprints {'agree' if not problems else 'DIFFER'}")
    return 1 if failed or problems or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
