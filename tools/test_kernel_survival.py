"""One failing cell must not kill the kernel: the `rust` kernel (evcxr_jupyter)
with evcxr's DEFAULT configuration, as JupyterLab starts it — not the
`preserve_vars_on_panic = false` configuration of tools/nbrun.py, under which
every panic aborts evcxr's subprocess on purpose ("panic in a function that
cannot unwind": the panic leaves evcxr's `extern "C"` cell function).

One kernel runs, in order: a cell defining a variable, then four failing
cells — a top-level `assert!`, a panic inside a `Bench::run` closure (then
`.unwrap()` of its error), a panic in a rayon worker under
`parlab::par::with_threads(2, …)`, a panic in a `std::thread::scope` worker —
each followed by a cell reading the variable. Each failing cell must stop
(its last line does not print), show the panic's message, not terminate
evcxr's subprocess, and the next cell must run with the variable kept.

The kernel builds in target/evcxr-tmp-survival/ (kept between runs: 80 s the
first time, measured, ≈ 20 s warm; its log goes to
target/evcxr-tmp-survival.log). Skipped, saying why, without the kernel or
jupyter_client.

    .venv/bin/python -m unittest -v tools/test_kernel_survival.py
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMPDIR = ROOT / "target" / "evcxr-tmp-survival"

try:
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
except ImportError:  # not in the venv
    KernelManager = None

KEPT = "let kept = 41u64;"
PROBE = 'println!("probe: kept + 1 = {}", kept + 1);'
PROBE_OK = "probe: kept + 1 = 42"
# Every failing cell ends by printing this; it must never appear.
AFTER = "REACHED-THE-END-OF-A-FAILING-CELL"
QUICK = (
    "parlab::timing::Bench::new().samples(2).warmup(std::time::Duration::ZERO)"
    ".min_sample_time(std::time::Duration::from_micros(100))"
)
# (name, cell, text its output must contain)
FAILING = [
    (
        "top-level assert",
        f'assert!(kept == 3, "assert: kept is {{kept}}");\nprintln!("{AFTER}");',
        "assert: kept is 41",
    ),
    (
        "Bench::run closure",
        f'{QUICK}.run(|| -> u8 {{ panic!("in the Bench closure") }}).unwrap();\n'
        f'println!("{AFTER}");',
        "the benchmarked closure panicked during the warm-up: in the Bench closure",
    ),
    (
        "rayon worker",
        "use parlab::rayon::prelude::*;\n"
        "let s: u64 = parlab::par::with_threads(2, || Ok((0..1000u64).into_par_iter()"
        '.map(|i| { if i == 777 { panic!("rayon worker at {i}") }; i }).sum::<u64>()))'
        ".unwrap();\n"
        f'println!("{AFTER} {{s}}");',
        "rayon worker at 777",
    ),
    (
        "std::thread::scope worker",
        "std::thread::scope(|s| { s.spawn(|| -> u8 { let v: Vec<u8> = Vec::new(); v[3] }); });\n"
        f'println!("{AFTER}");',
        "index out of bounds: the len is 0 but the index is 3",
    ),
]


def missing() -> str | None:
    """Why the test cannot run here, or None."""
    if KernelManager is None:
        return "jupyter_client is not installed (run from .venv, after ./lab setup)"
    try:
        spec = KernelSpecManager().get_kernel_spec("rust")
    except NoSuchKernel:
        return "no `rust` kernelspec (./lab setup installs it)"
    if not shutil.which(spec.argv[0]) and not Path(spec.argv[0]).exists():
        return f"the rust kernel's program {spec.argv[0]} is missing"
    return None


def shorten(text: str, lines: int = 12) -> str:
    """The first lines of an output and its last one, without backtraces."""
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith(" ")]
    if len(kept) <= lines:
        return "\n".join(kept)
    return "\n".join(kept[: lines - 1] + ["…", kept[-1]])


class Kernel:
    """The rust kernel with evcxr's default configuration."""

    def __init__(self) -> None:
        self.config = tempfile.TemporaryDirectory(prefix="parlab-evcxr-defaults-")
        TMPDIR.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # An empty config directory: evcxr's defaults, whatever ~/.config holds.
        env["EVCXR_CONFIG_DIR"] = self.config.name
        env["EVCXR_TMPDIR"] = str(TMPDIR)
        env["RUST_BACKTRACE"] = "0"
        self.km = KernelManager(kernel_name="rust")
        # The kernel's own stderr (cargo's progress while it builds parlab).
        self.log = open(TMPDIR.parent / "evcxr-tmp-survival.log", "w")
        self.km.start_kernel(
            cwd=str(ROOT / "notebooks"), env=env, stdout=self.log, stderr=self.log
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=180)

    def run(self, code: str, timeout: float = 120) -> tuple[str, str]:
        """Executes `code`; its reply status and every output, as text (late
        stderr included: evcxr forwards it from another thread)."""
        outputs: list[str] = []

        def keep(msg: dict) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                outputs.append(content["text"])
            elif kind == "error":
                outputs.append(f"{content['ename']}: {content['evalue']}")
            elif kind in ("execute_result", "display_data"):
                outputs.append(str(content["data"].get("text/plain", "")))

        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=keep)
        status = reply["content"]["status"]
        if status == "error" and reply["content"].get("ename"):
            outputs.append(f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")
        quiet_until = time.monotonic() + 0.5
        while time.monotonic() < quiet_until:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == reply["parent_header"].get("msg_id"):
                keep(msg)
                quiet_until = time.monotonic() + 0.5
        return status, "".join(outputs)

    def alive(self) -> bool:
        return self.km.is_alive()

    def close(self) -> None:
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        finally:
            self.config.cleanup()
            self.log.close()


@unittest.skipIf(missing(), missing() or "")
class KernelSurvival(unittest.TestCase):
    longMessage = False  # our messages quote the output, shortened

    @classmethod
    def setUpClass(cls) -> None:
        started = time.monotonic()
        cls.kernel = Kernel()
        try:
            status, out = cls.kernel.run(':dep parlab = { path = ".." }', timeout=1200)
            if status != "ok":
                raise RuntimeError(f"`:dep parlab` failed: {out[-2000:]}")
            cls.kept = cls.kernel.run(KEPT)
            cls.results = []
            for name, cell, message in FAILING:
                failed = cls.kernel.run(cell)
                alive = cls.kernel.alive()
                probe = cls.kernel.run(PROBE)
                cls.results.append((name, message, failed, alive, probe))
        except BaseException:
            cls.kernel.close()
            raise
        cls.seconds = time.monotonic() - started

    @classmethod
    def tearDownClass(cls) -> None:
        cls.kernel.close()
        print(f"\nkernel survival: {cls.seconds:.1f} s", flush=True)

    def test_the_variable_is_defined(self) -> None:
        self.assertEqual(self.kept[0], "ok", self.kept[1])

    def test_each_failing_cell_stops_with_its_message_and_the_kernel_survives(self) -> None:
        for name, message, (status, out), alive, (probe_status, probe_out) in self.results:
            out, probe_out = shorten(out), shorten(probe_out)
            with self.subTest(name):
                self.assertIn(message, out, f"the panic's message is not shown:\n{out}")
                self.assertNotIn(AFTER, out, f"the cell went on after the panic:\n{out}")
                self.assertNotIn("Subprocess terminated", out, f"evcxr's subprocess died:\n{out}")
                self.assertNotIn("cannot unwind", out, out)
                self.assertTrue(alive, "the kernel process died")
                self.assertEqual(probe_status, "ok", f"the next cell failed:\n{probe_out}")
                self.assertIn(
                    PROBE_OK, probe_out, f"the next cell lost the variable:\n{probe_out}"
                )


if __name__ == "__main__":
    unittest.main()
