"""The interactive path in a real browser: `./lab jupyter`, JupyterLab 4, the
`rust` kernel, and a student typing a solution.

Starts `./lab jupyter` headless (a token, a free loopback port, a temporary
root holding copies of two notebooks), drives Debian's chromium with
Playwright (the `playwright` pip package pointed at the system's chromium; it
downloads no browser), then

1. opens the copy of 00-setup.ipynb, runs all cells, waits until the kernel is
   idle, and checks that the table and the chart are shown and that no cell
   produced an error (read from the saved notebook and the page);
2. opens the copy of the student notebook 01-matrix-addition.ipynb, runs the
   cells above exercise 1.1, types a correct `chunk_bounds` into the exercise
   cell, runs it and its check, and sees "passed".

The server and its kernels are stopped at the end, even when the test fails.
The kernels use target/evcxr-tmp-browser/ to keep their build between runs.
Run by `./lab test`:

    .venv/bin/python -m unittest -v tools/test_jupyterlab.py
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# A cold build of parlab's dependencies in a new EVCXR_TMPDIR takes 1-2 min.
KERNEL_WAIT = 600
SOLUTION_1_1 = """fn chunk_bounds(rows: usize, threads: usize) -> Vec<(usize, usize)> {
let (base, extra) = (rows / threads, rows % threads);
let mut start = 0;
(0..threads).map(|k| {
let end = start + base + usize::from(k < extra);
let chunk = (start, end);
start = end;
chunk
}).collect()
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


def copy_notebook(src: Path, dest: Path) -> None:
    """A copy whose `:dep parlab = { path = ".." }` names this checkout, as
    the copy lives outside notebooks/."""
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if source.lstrip().startswith(":dep parlab"):
            cell["source"] = source.replace('path = ".."', f"path = {json.dumps(str(ROOT))}")
    dest.write_text(json.dumps(nb, indent=1))


@unittest.skipIf(chromium() is None, "needs chromium (Debian: apt-get install chromium)")
class JupyterLabInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="parlab-jupyterlab-")
        cls.root = Path(cls.tmp.name) / "root"
        cls.root.mkdir()
        copy_notebook(NOTEBOOKS / "00-setup.ipynb", cls.root / "setup-copy.ipynb")
        copy_notebook(NOTEBOOKS / "01-matrix-addition.ipynb", cls.root / "student-copy.ipynb")
        cls.port, cls.token = free_port(), secrets.token_hex(16)
        env = {**os.environ,
               "EVCXR_TMPDIR": str(ROOT / "target" / "evcxr-tmp-browser"),
               "JUPYTERLAB_WORKSPACES_DIR": str(Path(cls.tmp.name) / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(Path(cls.tmp.name) / "runtime"),
               "RUST_BACKTRACE": "0"}
        cls.log = open(Path(cls.tmp.name) / "server.log", "w+")
        cls.server = subprocess.Popen(
            [str(ROOT / "lab"), "jupyter", "--no-browser", f"--port={cls.port}",
             f"--ServerApp.token={cls.token}", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.root_dir={cls.root}", "--ServerApp.port_retries=0"],
            cwd=ROOT, env=env, stdout=cls.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kernels included
        )
        try:
            cls.wait_for_server()
            from playwright.sync_api import sync_playwright

            cls.pw = sync_playwright().start()
            cls.browser = cls.pw.chromium.launch(
                executable_path=chromium(), args=["--no-sandbox"], headless=True)
        except BaseException:
            cls.stop_server()
            raise

    @classmethod
    def wait_for_server(cls, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if cls.server.poll() is not None:
                raise AssertionError(f"./lab jupyter exited: {cls.server_log()}")
            try:
                cls.api("status")
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"JupyterLab did not answer in {seconds} s: {cls.server_log()}")

    @classmethod
    def api(cls, path: str, method: str = "GET"):
        req = urllib.request.Request(
            f"http://127.0.0.1:{cls.port}/api/{path}", method=method,
            headers={"Authorization": f"token {cls.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
            return json.loads(body) if body else None

    @classmethod
    def server_log(cls) -> str:
        cls.log.flush()
        cls.log.seek(0)
        return cls.log.read()[-3000:]

    @classmethod
    def stop_server(cls) -> None:
        try:
            for k in cls.api("kernels") or []:
                cls.api(f"kernels/{k['id']}", method="DELETE")
        except OSError:
            pass
        if cls.server.poll() is None:
            os.killpg(cls.server.pid, signal.SIGTERM)
            try:
                cls.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(cls.server.pid, signal.SIGKILL)
                cls.server.wait()
        try:  # anything left in its group (a kernel that ignored SIGTERM)
            os.killpg(cls.server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @classmethod
    def tearDownClass(cls):
        try:
            for attr in ("browser", "pw"):
                obj = getattr(cls, attr, None)
                if obj is not None:
                    obj.close() if attr == "browser" else obj.stop()
        finally:
            cls.stop_server()
            cls.log.close()
            cls.tmp.cleanup()

    # ------------------------------------------------------------ helpers

    def open(self, name: str):
        page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{self.port}/lab/tree/{name}?token={self.token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        self.wait_idle(page, name)
        return page

    def wait_idle(self, page, name: str, seconds: float = KERNEL_WAIT) -> None:
        """Until the notebook's kernel is idle and no cell is queued or
        running (`[*]`)."""
        deadline = time.monotonic() + seconds
        quiet_since = None
        while time.monotonic() < deadline:
            sessions = [s for s in self.api("sessions") if s["path"].endswith(name)]
            states = {s["kernel"]["execution_state"] for s in sessions}
            running = page.locator(".jp-InputPrompt", has_text="[*]").count()
            if sessions and states == {"idle"} and running == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 2:
                    return
            else:
                quiet_since = None
            page.wait_for_timeout(500)
        raise AssertionError(f"{name}: the kernel did not go idle in {seconds} s")

    def menu(self, page, top: str, item: str) -> None:
        """Clicks menu `top`, then its item labelled exactly `item`."""
        page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
        label = re.compile(f"^{re.escape(item)}$")
        page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=label).first.click()

    def saved(self, page, name: str) -> dict:
        before = (self.root / name).stat().st_mtime
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while (self.root / name).stat().st_mtime == before and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        return json.loads((self.root / name).read_text())

    def errors_in(self, nb: dict) -> list[str]:
        found = []
        for i, cell in enumerate(nb["cells"], 1):
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", "")) if out.get("output_type") == "stream" else ""
                if out.get("output_type") == "error" or "panicked at" in text:
                    found.append(f"cell {i}: {out.get('evalue') or text[:300]}")
        return found

    # -------------------------------------------------------------- tests

    def test_1_setup_notebook_runs_and_shows_its_table_and_chart(self):
        page = self.open("setup-copy.ipynb")
        try:
            self.menu(page, "Run", "Run All Cells")
            page.wait_for_timeout(1000)
            self.wait_idle(page, "setup-copy.ipynb")
            nb = self.saved(page, "setup-copy.ipynb")
            self.assertEqual(self.errors_in(nb), [])
            code = [c for c in nb["cells"] if c["cell_type"] == "code"]
            self.assertTrue(all(c.get("execution_count") for c in code),
                            [c.get("execution_count") for c in code])
            outputs = page.locator(".jp-OutputArea-output")
            self.assertGreater(outputs.locator("table").count(), 0, "no table shown")
            charts = outputs.locator("svg, img").count()
            self.assertGreater(charts, 0, "no chart shown")
            self.assertEqual(page.locator(".jp-OutputArea-output[data-mime-type="
                                          "'application/vnd.jupyter.error']").count(), 0)
        finally:
            page.screenshot(path=str(ROOT / "target" / "jupyterlab-setup.png"), full_page=True)
            page.close()
            for s in self.api("sessions"):
                self.api(f"sessions/{s['id']}", method="DELETE")

    def test_2_a_student_types_a_solution_and_its_check_passes(self):
        name = "student-copy.ipynb"
        page = self.open(name)
        try:
            cell = page.locator(".jp-Notebook .jp-CodeCell",
                                has=page.locator(".cm-content", has_text="fn chunk_bounds")).first
            cell.scroll_into_view_if_needed()
            cell.locator(".jp-InputPrompt").click()  # select the cell (command mode)
            self.menu(page, "Run", "Run All Above Selected Cell")
            page.wait_for_timeout(1000)
            self.wait_idle(page, name)
            editor = cell.locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.press("Delete")
            page.keyboard.insert_text(SOLUTION_1_1)
            page.keyboard.press("Shift+Enter")  # runs it, selects the check below
            page.wait_for_timeout(500)
            self.wait_idle(page, name)
            page.keyboard.press("Shift+Enter")  # runs the check
            page.wait_for_timeout(500)
            self.wait_idle(page, name)
            check = page.locator(".parlab-check", has_text="1.1 chunk_bounds").first
            check.wait_for(timeout=60_000)
            self.assertIn("passed", check.inner_text())
            self.assertNotIn("not yet right", check.inner_text())
        finally:
            page.screenshot(path=str(ROOT / "target" / "jupyterlab-student.png"), full_page=True)
            page.close()


if __name__ == "__main__":
    unittest.main()
