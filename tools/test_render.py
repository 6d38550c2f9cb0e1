"""Opens parlab's charts in a real browser (Debian's chromium, headless),
takes screenshots, and checks what a reader sees.

1. ChartsDrawnInBrowser: the executed notebook 00-setup's HTML export shows
   its chart. Needs the notebooks step of `./lab test` (target/notebooks/).
2. GalleryInBrowser: examples/chart_gallery.rs draws one chart of every kind
   into a light page and a dark one (JupyterLab's dark theme variables);
   both are screenshot and every chart is checked: drawn (pixels of its
   series colours), on the page's background (no white card on a dark page),
   with visible text (light text on the dark page, dark on the light one);
   and, from the SVG's geometry, no legend box covers a point or a line of
   the data. Needs cargo (it builds the example with the `test` profile and
   the flamegraph feature) but no executed notebook.

Run by `./lab test` (the browser step):

    python3 -m unittest -v tools/test_render.py

The screenshots stay in target/notebooks/*.png and target/gallery/*.png for
people to look at.
"""

from __future__ import annotations

import json
from collections import Counter
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "notebooks"
# parlab's first chart colour (plot::PALETTE[0]): the bars of 00-setup's chart.
CHART_BLUE = (0x1F, 0x77, 0xB4)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html: Path, png: Path, size=(1100, 4000)) -> None:
    """A headless chromium screenshot of `html`, `size` CSS pixels at scale 1."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
             "--force-device-scale-factor=1",
             f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unsupported PNG: depth {depth} colour {color}"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]


def count_near(pixels: list[bytes], rgb: tuple[int, int, int], tol: int = 12) -> int:
    return sum(1 for p in pixels if all(abs(p[k] - rgb[k]) <= tol for k in range(3)))


class ChartsDrawnInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if chromium() is None:
            raise AssertionError("chromium is not installed: ./lab setup installs it for the tests")

    def test_setup_notebook_chart_is_drawn(self):
        html = OUT / "00-setup.html"
        self.assertTrue(html.exists(), f"{html} is missing: run the notebooks first")
        png = OUT / "00-setup.png"
        screenshot(html, png)
        width, height, pixels = decode_png(png.read_bytes())
        self.assertEqual(width, 1100)
        blue = count_near(pixels, CHART_BLUE)
        # Two bars of the chart are thousands of pixels; a blank or broken
        # image has none.
        self.assertGreater(blue, 5000, f"chart bars not found in {png} ({blue} blue pixels)")
        distinct = len(set(pixels[:: 7]))
        self.assertGreater(distinct, 50, "the page looks blank")


    def test_setup_notebook_dark_export_follows_the_theme(self):
        """nbconvert's dark export (`--HTMLExporter.theme=dark`) of 00-setup:
        the chart is drawn on the dark page, not as a white card."""
        try:
            import nbformat
            from nbconvert import HTMLExporter
        except ImportError:
            self.skipTest("nbconvert is not installed here (the lab's venv has it)")
        notebook = OUT / "00-setup.ipynb"
        self.assertTrue(notebook.exists(), f"{notebook} is missing: run the notebooks first")
        html, _ = HTMLExporter(template_name="lab", theme="dark").from_notebook_node(
            nbformat.read(notebook, as_version=4))
        page = OUT / "00-setup.dark.html"
        page.write_text(html, encoding="utf-8")
        png = OUT / "00-setup.dark.png"
        screenshot(page, png)
        _, _, pixels = decode_png(png.read_bytes())
        blue = count_near(pixels, CHART_BLUE)
        self.assertGreater(blue, 5000, f"chart bars not found in {png} ({blue} blue pixels)")
        # A 720×400 white card would be 288 000 white pixels; white text is
        # a few thousand.
        white = count_near(pixels, (0xFF, 0xFF, 0xFF), tol=4)
        self.assertLess(white, 60_000, f"{png}: {white} white pixels: a chart on a white card?")


GALLERY = ROOT / "target" / "gallery"
# The page backgrounds: white, and JupyterLab dark's --jp-layout-color0.
PAGE = {"light": (0xFF, 0xFF, 0xFF), "dark": (0x11, 0x11, 0x11)}
# Charts whose SVG has a legend box (checked for covering data).
WITH_LEGEND = {"line", "line-log", "scaling", "roofline"}


def hex_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def blended_count(px: Counter, colour: tuple, page: tuple) -> int:
    """Pixels of `colour` drawn on `page`, also translucent or antialiased:
    on the line from the page's colour to `colour`, at least 35 % of the way."""
    d = [colour[k] - page[k] for k in range(3)]
    dd = sum(v * v for v in d) or 1
    n = 0
    for p, count in px.items():
        q = [p[k] - page[k] for k in range(3)]
        a = sum(q[k] * d[k] for k in range(3)) / dd
        if 0.35 <= a <= 1.15:
            off = sum((q[k] - a * d[k]) ** 2 for k in range(3))
            if off < 18 * 18:
                n += count
    return n


def build_gallery() -> str | None:
    """Builds and runs examples/chart_gallery.rs into target/gallery/; the
    reason it cannot, or None."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        return "cargo is not installed"
    features = ["--features", "flamegraph"] if sys.platform.startswith("linux") else []
    # The `test` profile: `./lab test` has built the dependencies with it.
    cmd = [cargo, "run", "--quiet", "--profile", "test", *features,
           "--example", "chart_gallery", "--", str(GALLERY)]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    print(f"\n  chart gallery built and drawn in {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return None


def points_of(el: ET.Element) -> list[tuple[float, float]]:
    """The vertices an SVG element draws through."""
    tag = el.tag.rsplit("}", 1)[-1]
    if tag in ("polyline", "polygon"):
        nums = [float(v) for v in re.findall(r"-?[0-9.]+", el.get("points", ""))]
        return list(zip(nums[0::2], nums[1::2]))
    if tag == "circle":
        return [(float(el.get("cx", 0)), float(el.get("cy", 0)))]
    if tag == "line":
        return [(float(el.get("x1", 0)), float(el.get("y1", 0))),
                (float(el.get("x2", 0)), float(el.get("y2", 0)))]
    if tag == "rect":
        x, y = float(el.get("x", 0)), float(el.get("y", 0))
        w, h = float(el.get("width", 0)), float(el.get("height", 0))
        return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return []


def legend_overlaps(svg_text: str, colours: list[str]) -> tuple[tuple | None, list]:
    """The legend box (x0, y0, x1, y1) of a parlab chart and the data points
    (drawn in `colours` before the legend) that fall inside it.

    The legend box is the first white rectangle after the background; the
    data are the elements in a series colour drawn before it, polylines
    sampled every 2 px along their segments."""
    root = ET.fromstring(svg_text)
    want = {c.upper() for c in colours}
    box, data = None, []
    elements = list(root.iter())
    for el in elements:
        tag = el.tag.rsplit("}", 1)[-1]
        fill = (el.get("fill") or "").upper()
        if tag == "rect" and fill == "#FFFFFF" and not (
                el.get("x") in ("0", None) and el.get("y") in ("0", None)):
            x, y = float(el.get("x", 0)), float(el.get("y", 0))
            box = (x, y, x + float(el.get("width", 0)), y + float(el.get("height", 0)))
            break
        if fill in want or (el.get("stroke") or "").upper() in want:
            pts = points_of(el)
            if tag == "polyline" and len(pts) > 1:
                for (ax, ay), (bx, by) in zip(pts, pts[1:]):
                    n = max(1, int(max(abs(bx - ax), abs(by - ay)) / 2))
                    data += [(ax + (bx - ax) * k / n, ay + (by - ay) * k / n) for k in range(n + 1)]
            else:
                data += pts
    if box is None:
        return None, []
    x0, y0, x1, y1 = box
    inside = [(x, y) for x, y in data if x0 + 1 < x < x1 - 1 and y0 + 1 < y < y1 - 1]
    return box, inside


class GalleryInBrowser(unittest.TestCase):
    """Every chart kind in a light and a dark page (see the module's header)."""

    @classmethod
    def setUpClass(cls):
        if chromium() is None:
            raise unittest.SkipTest("chromium is not installed: ./lab setup installs it")
        why = build_gallery()
        if why:
            raise unittest.SkipTest(f"cannot draw the chart gallery: {why}")
        cls.manifest = json.loads((GALLERY / "manifest.json").read_text())
        last = cls.manifest[-1]
        size = (last["width"], last["top"] + last["height"])
        cls.shots = {}
        for theme in PAGE:
            png = GALLERY / f"{theme}.png"
            screenshot(GALLERY / f"{theme}.html", png, size)
            cls.shots[theme] = decode_png(png.read_bytes())

    def region(self, theme: str, entry: dict) -> list[bytes]:
        width, height, pixels = self.shots[theme]
        top, bottom = entry["top"], min(entry["top"] + entry["height"], height)
        right = min(entry["width"], width)
        return [p for y in range(top, bottom) for p in pixels[y * width:y * width + right]]

    def check_theme(self, theme: str) -> None:
        page = PAGE[theme]
        problems = []
        for entry in self.manifest:
            name = f"{entry['id']} ({entry['kind']}) on the {theme} page"
            px = Counter(self.region(theme, entry))
            total = sum(px.values())
            background = sum(n for p, n in px.items() if all(abs(p[k] - page[k]) <= 6 for k in range(3)))
            if background < 0.4 * total:
                problems.append(f"{name}: only {background} of {total} pixels are the page's "
                                f"background {page}: a card of another colour?")
            # Text and axes: grey pixels far from the background.
            text = sum(n for p, n in px.items() if max(p) - min(p) < 24 and
                       (sum(p) / 3 > 170 if theme == "dark" else sum(p) / 3 < 90))
            if text < (40 if entry["kind"] == "image" else 150):
                problems.append(f"{name}: {text} pixels of {'light' if theme == 'dark' else 'dark'} "
                                "text: labels are not readable on this page")
            if entry["colours"]:
                drawn = {c: blended_count(px, hex_rgb(c), page) for c in entry["colours"]}
                missing = [c for c, n in drawn.items() if n < 40]
                if missing:
                    problems.append(f"{name}: series colours not drawn: {drawn}")
            elif entry["kind"] == "flame":
                warm = sum(n for p, n in px.items() if p[0] > 180 and p[2] < 110 and p[0] - p[2] > 110)
                if warm < 2000:
                    problems.append(f"{name}: {warm} flame-coloured pixels")
            elif entry["kind"] == "image":
                if len(px) < 100:
                    problems.append(f"{name}: {len(px)} colours: the images are missing")
        self.assertEqual(problems, [], f"screenshot: {GALLERY / (theme + '.png')}")

    def test_light_page(self):
        self.check_theme("light")

    def test_dark_page(self):
        self.check_theme("dark")

    def test_every_kind_is_in_the_gallery(self):
        kinds = {e["kind"] for e in self.manifest}
        expected = {"bars", "strip", "line", "line-log", "scaling", "roofline", "gantt",
                    "profile", "image", "html"}
        if sys.platform.startswith("linux"):
            expected.add("flame")
        self.assertEqual(expected - kinds, set())

    def test_legends_do_not_cover_data(self):
        problems = []
        for entry in self.manifest:
            if entry["kind"] not in WITH_LEGEND:
                continue
            svg = (GALLERY / entry["svg"]).read_text()
            box, inside = legend_overlaps(svg, entry["colours"])
            if box is None:
                problems.append(f"{entry['svg']}: no legend box found (a white rectangle)")
            elif inside:
                problems.append(f"{entry['svg']}: the legend {box} covers {len(inside)} data "
                                f"point(s), e.g. {inside[:3]}")
        self.assertEqual(problems, [])


class LegendCheckCanFail(unittest.TestCase):
    """The geometry check finds a legend drawn over a line."""

    def test_a_legend_on_a_line_is_found(self):
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
               '<rect x="0" y="0" width="100" height="100" fill="#FFFFFF"/>'
               '<polyline fill="none" stroke="#1F77B4" points="0,50 100,50"/>'
               '<rect x="10" y="40" width="30" height="20" fill="#FFFFFF"/>'
               '<line stroke="#1F77B4" x1="12" y1="45" x2="20" y2="45"/></svg>')
        box, inside = legend_overlaps(svg, ["#1f77b4"])
        self.assertEqual(box, (10.0, 40.0, 40.0, 60.0))
        self.assertTrue(inside)
        clear = svg.replace('points="0,50 100,50"', 'points="0,90 100,90"')
        self.assertEqual(legend_overlaps(clear, ["#1f77b4"])[1], [])


if __name__ == "__main__":
    unittest.main()
