#!/usr/bin/env python3
"""parlab's entry point: set-up, the main job, the tests, JupyterLab.

Run through ./lab (which checks that cargo and python3 exist first):

    ./lab run        set up if needed, execute every notebook in notebooks/ in the
                     real `rust` kernel, write executed copies and HTML to
                     target/notebooks/, print a table (the main job)
    ./lab test       set up if needed, then cargo fmt --check, clippy -D warnings,
                     cargo test, rustdoc -D warnings, the Python tests of this
                     tooling, the MPI examples on 1-4 ranks (tools/test_mpi.py),
                     and every notebook executed as a test (without MPI the
                     MPI steps and notebook 08 are skipped, saying why)
    ./lab jupyter    set up if needed, open JupyterLab on notebooks/
    ./lab setup      only the set-up (idempotent; quick when already done)
    ./lab strip      remove outputs and execution counts from notebooks/
    ./lab grade DIR  grade the student notebooks in DIR (one per student) in the
                     real kernel, one kernel per core at a time, a line with an
                     ETA as each finishes: DIR/gradebook.csv,
                     DIR/feedback/*.html, a table (options: --jobs N,
                     --cell-timeout SECONDS, --course DIR, --tmpdir DIR; see
                     tools/grade.py)
    ./lab peers      parlab's kernels next to numpy and numba on this machine,
                     interleaved in rounds: a markdown table of times and speed
                     ratios (options: --rounds N, --threads 1,2, --quick,
                     --out FILE.md; see tools/peers.py)

`./lab peers` needs no notebook set-up: it creates its own git-ignored virtual
environment .venv-peers/ with the packages pinned in tools/requirements-peers.txt
(numpy, numba, threadpoolctl), installs Debian's OpenBLAS as set-up does (for
matmul), builds `examples/peers.rs` twice (release, and the `notebook` profile
that evcxr cells get) and runs tools/peers.py.

Set-up installs evcxr_jupyter (pinned, `cargo install --locked`) when it is
missing or at another version, registers the `rust` kernelspec, creates a
git-ignored virtual environment .venv/ with the packages pinned in
tools/requirements.txt, and (as root, with apt) installs Debian's OpenBLAS,
which parlab's matmul loads at run time when present, and MPICH with libclang
for the MPI examples and notebook 08 (without them, as a user, `./lab test`
and `./lab run` skip those and say what to install). Every step checks before it acts, so an interrupted
set-up is finished by running it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "tools" / "requirements.txt"
PEERS_VENV = ROOT / ".venv-peers"
PEERS_REQUIREMENTS = ROOT / "tools" / "requirements-peers.txt"
EVCXR_VERSION = "0.22.0"
CARGO_HOME = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
KERNEL_DIR = Path(
    os.environ.get("JUPYTER_DATA_DIR", Path.home() / ".local" / "share" / "jupyter")
) / "kernels" / "rust"


def say(msg: str) -> None:
    print(f"[parlab] {msg}", flush=True)


def die(msg: str, code: int = 2) -> None:
    print(f"[parlab] error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def run(cmd: list[str], **kw) -> int:
    """Runs a command with inherited stdout/stderr, so progress shows."""
    return subprocess.call(cmd, cwd=kw.pop("cwd", ROOT), **kw)


# --------------------------------------------------------------------- set-up


def venv_python() -> Path:
    return VENV / "bin" / "python"


def evcxr_binary() -> Path | None:
    found = shutil.which("evcxr_jupyter")
    if found:
        return Path(found)
    candidate = CARGO_HOME / "bin" / "evcxr_jupyter"
    return candidate if candidate.exists() else None


def evcxr_installed_version(binary: Path | None) -> str | None:
    """The version cargo installed, from `cargo install --list`
    (evcxr_jupyter has no --version flag)."""
    if binary is None:
        return None
    try:
        listing = subprocess.run(
            ["cargo", "install", "--list"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in listing.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "evcxr_jupyter" and words[1].startswith("v"):
            return words[1][1:].rstrip(":")
    return "unknown (not installed by cargo)"


def ensure_evcxr() -> Path:
    binary = evcxr_binary()
    version = evcxr_installed_version(binary)
    if version == EVCXR_VERSION:
        return binary
    why = "is not installed" if version is None else f"is at version {version}"
    say(
        f"evcxr_jupyter {why}; installing {EVCXR_VERSION} with "
        "`cargo install --locked`.\n"
        "         This compiles evcxr from source: 10-16 minutes on 2 cores. "
        "Cargo's progress follows."
    )
    started = time.monotonic()
    code = run(
        ["cargo", "install", "--locked", "evcxr_jupyter", "--version", EVCXR_VERSION]
    )
    if code != 0:
        die(
            "`cargo install --locked evcxr_jupyter` failed (see above); "
            "run the same command again to resume"
        )
    say(f"evcxr_jupyter installed in {time.monotonic() - started:.0f} s")
    binary = evcxr_binary()
    if binary is None or evcxr_installed_version(binary) != EVCXR_VERSION:
        die(f"evcxr_jupyter {EVCXR_VERSION} is still not found after installing")
    return binary


def ensure_kernelspec(binary: Path) -> None:
    spec = KERNEL_DIR / "kernel.json"
    try:
        argv = json.loads(spec.read_text())["argv"]
        if Path(argv[0]).resolve() == binary.resolve():
            return
    except (OSError, ValueError, KeyError, IndexError):
        pass
    say("registering the `rust` Jupyter kernel (evcxr_jupyter --install)")
    if run([str(binary), "--install"]) != 0:
        die("`evcxr_jupyter --install` failed")


# Large arrays on transparent huge pages, as numpy's are: glibc (2.35 and
# later) then asks for them (madvise) on every large allocation, so that
# `Array2::zeros` in a cell gets them as `parlab::mem::zeros` does. Measured
# on an AMD Zen 4 VM (THP `madvise`): a 4096² f64 sum 7.4 → 4.5 ms, an add
# 17.3 → 10.6 ms. Older glibc and other systems ignore the setting.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def with_huge_pages(env: dict) -> dict:
    """`env` with the huge-page tunable added to GLIBC_TUNABLES."""
    current = env.get("GLIBC_TUNABLES", "")
    if HUGE_PAGES_TUNABLE.split("=")[0] in current:
        return env
    return {**env, "GLIBC_TUNABLES": f"{current}:{HUGE_PAGES_TUNABLE}" if current else HUGE_PAGES_TUNABLE}


def ensure_kernel_env() -> None:
    """The `rust` kernelspec starts the kernel with the huge-page tunable (for
    JupyterLab; the runner and the grader set it themselves)."""
    spec = KERNEL_DIR / "kernel.json"
    try:
        data = json.loads(spec.read_text())
    except (OSError, ValueError):
        return
    env = data.get("env") or {}
    wanted = with_huge_pages(env)
    if wanted != env:
        data["env"] = wanted
        spec.write_text(json.dumps(data, indent=1) + "\n")


def requirements_digest(requirements: Path = REQUIREMENTS) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def ensure_venv(venv: Path = VENV, requirements: Path = REQUIREMENTS) -> None:
    """A virtual environment at `venv` with the pins of `requirements`,
    redone only when that file changes (a stamp holds its digest)."""
    stamp = venv / ".parlab-requirements"
    python = venv / "bin" / "python"
    healthy = python.exists() and subprocess.call(
        [str(python), "-c", "import sys"], stderr=subprocess.DEVNULL
    ) == 0
    digest = requirements_digest(requirements)
    if healthy and stamp.exists() and stamp.read_text() == digest:
        return
    name = venv.relative_to(ROOT) if venv.is_relative_to(ROOT) else venv
    if not healthy:
        if venv.exists():
            shutil.rmtree(venv)
        say(f"creating the Python virtual environment {name}/")
        if run([sys.executable, "-m", "venv", str(venv)]) != 0:
            shutil.rmtree(venv, ignore_errors=True)
            die(
                "python3 cannot create a virtual environment; install the venv "
                "module (Debian/Ubuntu: apt install python3-venv)"
            )
    req_name = requirements.relative_to(ROOT) if requirements.is_relative_to(ROOT) else requirements
    say(f"installing the pinned Python packages from {req_name}")
    code = run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check",
         "-q", "-r", str(requirements)]
    )
    if code != 0:
        die("pip install failed (see above); run the command again to resume")
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """The browser test needs a headless Chromium (Debian's package)."""
    if any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        die("the browser test needs Chromium; install it (Debian: apt-get install chromium)")
    say("installing Debian's chromium for the browser test (apt-get, 1-2 minutes)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run([apt, "install", "-y", "-q", "chromium"], env=env) != 0:
        run([apt, "update", "-q"], env=env)
        if run([apt, "install", "-y", "-q", "chromium"], env=env) != 0:
            die("apt-get install chromium failed (see above)")


def openblas_present() -> bool:
    """Whether the dynamic loader finds libopenblas.so.0 (what parlab's
    `matmul` loads at run time)."""
    try:
        import ctypes

        ctypes.CDLL("libopenblas.so.0")
        return True
    except OSError:
        return False


def ensure_openblas() -> None:
    """parlab's `matmul` uses the system OpenBLAS when it is installed
    (matrixmultiply otherwise): install Debian's package when we can."""
    if sys.platform != "linux" or openblas_present():
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        say(
            "optional: install OpenBLAS for a faster matmul "
            "(Debian/Ubuntu: apt-get install libopenblas0-pthread); "
            "without it parlab uses matrixmultiply"
        )
        return
    say("installing Debian's OpenBLAS for parlab's matmul (apt-get, under a minute)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = [apt, "install", "-y", "-q", "libopenblas0-pthread"]
    if run(cmd, env=env) != 0:
        run([apt, "update", "-q"], env=env)
        if run(cmd, env=env) != 0:
            say("apt-get install libopenblas0-pthread failed; matmul uses matrixmultiply")


MPI_PACKAGES = ["mpich", "libmpich-dev", "libclang-dev"]


def mpi_missing() -> str | None:
    """Why the MPI examples cannot be built and run here (None when they can):
    they need mpiexec and mpicc (an MPI library) and libclang (rsmpi's bindgen)."""
    lacking = [tool for tool in ("mpiexec", "mpicc") if shutil.which(tool) is None]
    libclang = any(Path("/usr/lib").glob("llvm-*/lib/libclang*.so*")) or any(
        Path("/usr/lib").glob("*/libclang-*.so*")
    )
    if not libclang and sys.platform == "linux":
        lacking.append("libclang")
    if not lacking:
        return None
    return (
        f"{', '.join(lacking)} not found; install MPI and libclang "
        f"(Debian/Ubuntu, as root: apt-get install {' '.join(MPI_PACKAGES)})"
    )


def ensure_mpi() -> str | None:
    """The MPI examples and notebook 08 need MPICH and libclang: install
    Debian's packages as root with apt; otherwise return why they are missing
    (the MPI steps are then skipped, saying so)."""
    why = mpi_missing()
    if why is None:
        return None
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return why
    say(f"installing MPI for the MPI examples and notebook 08: apt-get install {' '.join(MPI_PACKAGES)} (1-2 minutes)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = [apt, "install", "-y", "-q", *MPI_PACKAGES]
    if run(cmd, env=env) != 0:
        run([apt, "update", "-q"], env=env)
        run(cmd, env=env)
    return mpi_missing()


def needs_mpi(path: Path) -> bool:
    """A notebook whose metadata says `"parlab": {"requires": ["mpi"]}`."""
    try:
        meta = json.loads(path.read_text()).get("metadata", {})
    except (OSError, ValueError):
        return False
    return "mpi" in meta.get("parlab", {}).get("requires", [])


def without_mpi_notebooks(paths: list[Path], why: str | None) -> list[Path]:
    """The notebooks that can run: all of them when MPI is present; otherwise
    those that need it are left out, saying which and why."""
    if why is None:
        return paths
    skipped = [p for p in paths if needs_mpi(p)]
    for p in skipped:
        say(f"skipping {p.name}: it runs MPI programs and {why}")
    return [p for p in paths if p not in skipped]


def setup() -> None:
    started = time.monotonic()
    binary = ensure_evcxr()
    ensure_kernelspec(binary)
    ensure_kernel_env()
    ensure_venv()
    ensure_openblas()
    say(f"set-up ready ({time.monotonic() - started:.1f} s)")


# ------------------------------------------------------------------ commands


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def run_notebooks(paths: list[Path]) -> int:
    return run(
        [str(venv_python()), str(ROOT / "tools" / "nbrun.py"),
         "--out", str(ROOT / "target" / "notebooks"), *map(str, paths)]
    )


def cmd_run(args: list[str]) -> int:
    setup()
    paths = [Path(a).resolve() for a in args] or notebooks()
    paths = without_mpi_notebooks(paths, ensure_mpi() if any(map(needs_mpi, paths)) else None)
    if not paths:
        say("no notebook left to run")
        return 0
    return run_notebooks(paths)


def cmd_test(args: list[str]) -> int:
    setup()
    ensure_chromium()
    no_mpi = ensure_mpi()
    if no_mpi:
        say(f"skipping the MPI steps (the mpi feature, the MPI examples, notebook 08): {no_mpi}")
    # --all-features includes `mpi`, which needs an MPI library to build.
    features = ["--all-features"] if no_mpi is None else ["--features", "flamegraph"]
    steps: list[tuple[str, list[str], dict]] = [
        ("cargo fmt --check", ["cargo", "fmt", "--all", "--check"], {}),
        ("cargo clippy", ["cargo", "clippy", "--all-targets", *features, "--", "-D", "warnings"], {}),
        # --no-fail-fast: one failing test binary must not hide the others.
        ("cargo test", ["cargo", "test", "--no-fail-fast"], {}),
        # The CPUs we do not have: the case table, property tests and bit
        # fingerprints under every SIMD level of this CPU (streaming stores
        # on and off) and every OpenBLAS kernel family it can run.
        ("cpu matrix", [sys.executable, str(ROOT / "tools" / "cpu_matrix.py")], {}),
        # Five quick probes in a row decide alike (optimised, as programs and
        # notebooks run the probe; the debug build measures something else).
        ("probe stability", ["cargo", "test", "--release", "-q", "--test", "probe_stability"], {}),
        ("cargo test flamegraph", ["cargo", "test", "--features", "flamegraph", "--lib", "profile"], {}),
        ("cargo doc", ["cargo", "doc", "--no-deps"],
         {"RUSTDOCFLAGS": "-D warnings"}),
        ("tooling tests", [str(venv_python()), "-m", "unittest", "-v", "tools/test_lab.py"],
         {}),
        ("grading", [str(venv_python()), "-m", "unittest", "-v", "tools/test_grade.py"], {}),
        ("notebooks", [str(venv_python()), str(ROOT / "tools" / "nbrun.py"),
                       "--out", str(ROOT / "target" / "notebooks"),
                       *map(str, without_mpi_notebooks(notebooks(), no_mpi))], {}),
        # 00-setup's exported chart, then the chart gallery (every chart kind,
        # light and dark; builds examples/chart_gallery.rs, ≈ 25 s once built).
        ("browser", [str(venv_python()), "-m", "unittest", "-v", "tools/test_render.py"], {}),
        ("jupyterlab", [str(venv_python()), "-m", "unittest", "-v", "tools/test_jupyterlab.py"], {}),
        # One failing cell must not kill the kernel: four kinds of panic in
        # the rust kernel with evcxr's default configuration (≈ 80 s cold).
        ("kernel survival", [str(venv_python()), "-m", "unittest", "-v",
                             "tools/test_kernel_survival.py"], {}),
    ]
    if no_mpi is None:
        # The examples on 1-4 ranks, sizes that do not divide, failing ranks.
        steps.insert(
            steps.index(next(s for s in steps if s[0] == "tooling tests")) + 1,
            ("mpi examples", [str(venv_python()), "-m", "unittest", "-v", "tools/test_mpi.py"], {}),
        )
        steps.insert(
            steps.index(next(s for s in steps if s[0] == "cargo test")) + 1,
            ("cargo test mpi", ["cargo", "test", "--features", "mpi", "--lib", "dist"], {}),
        )
    results = []
    for name, cmd, extra_env in steps:
        say(f"── {name}: {' '.join(cmd[:4])}{' …' if len(cmd) > 4 else ''}")
        started = time.monotonic()
        env = {**os.environ, **extra_env}
        code = run(cmd, env=env)
        results.append((name, code, time.monotonic() - started))
    print()
    print(f"{'step':<20} {'seconds':>8}  status")
    for name, code, secs in results:
        print(f"{name:<20} {secs:8.1f}  {'ok' if code == 0 else f'FAILED (exit {code})'}")
    if no_mpi:
        print(f"{'mpi examples':<20} {0:8.1f}  skipped: {no_mpi}")
    failed = [name for name, code, _ in results if code != 0]
    if failed:
        say(f"tests failed: {', '.join(failed)}")
        return 1
    say("all tests passed")
    return 0


def cmd_jupyter(args: list[str]) -> int:
    setup()
    jupyter = VENV / "bin" / "jupyter"
    extra = ["--allow-root"] if os.geteuid() == 0 and "--allow-root" not in args else []
    say("opening JupyterLab on notebooks/ (the *.solution notebooks hold the answers)")
    return run([str(jupyter), "lab", *extra, *args], cwd=ROOT / "notebooks")


def cmd_setup(args: list[str]) -> int:
    setup()
    return 0


def cmd_peers(args: list[str]) -> int:
    """parlab next to numpy and numba: see tools/peers.py."""
    # matmul runs on the system OpenBLAS when it is there, as in the
    # notebooks after set-up: the table must time what they run.
    ensure_openblas()
    ensure_venv(PEERS_VENV, PEERS_REQUIREMENTS)
    for profile in ("release", "notebook"):
        say(f"building examples/peers.rs (--profile {profile})")
        if run(["cargo", "build", "-q", "--profile", profile, "--example", "peers"]) != 0:
            die(f"cargo build --profile {profile} --example peers failed (see above)")
    return run([str(PEERS_VENV / "bin" / "python"), str(ROOT / "tools" / "peers.py"), *args])


def cmd_grade(args: list[str]) -> int:
    """Grades submitted notebooks: see tools/grade.py."""
    setup()
    return run([str(venv_python()), str(ROOT / "tools" / "grade.py"), *args])


def cmd_strip(args: list[str]) -> int:
    paths = [Path(a) for a in args] or notebooks()
    changed = 0
    for path in paths:
        nb = json.loads(path.read_text())
        dirty = False
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("outputs") or cell.get("execution_count") is not None:
                dirty = True
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.get("metadata", {}).pop("execution", None)
        if dirty:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            say(f"stripped {path}")
            changed += 1
    say(f"{changed} notebook(s) changed")
    return 0


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "jupyter": cmd_jupyter,
    "setup": cmd_setup,
    "strip": cmd_strip,
    "peers": cmd_peers,
    "grade": cmd_grade,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        die(f"unknown command {argv[0]!r}; one of: {', '.join(COMMANDS)}")
    if shutil.which("cargo") is None:
        die("cargo is not on PATH; install a Rust toolchain (rustc >= 1.95)")
    return command(argv[1:])


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        die("interrupted; run the same command again to resume", 130)
