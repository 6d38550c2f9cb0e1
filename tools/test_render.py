"""Opens executed notebooks' HTML in a real browser (Debian's chromium,
headless), takes a screenshot, and checks that the chart was drawn.

Run by `./lab test` after the notebooks step (which writes target/notebooks/).
The screenshots stay in target/notebooks/*.png for people to look at.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import unittest
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
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
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


if __name__ == "__main__":
    unittest.main()
