"""A real headless browser for the web view's tests: Debian's Chromium, driven by Playwright.

Playwright cannot download its own browser here (no network), so it drives the distribution's Chromium at
``/usr/bin/chromium`` (``make test`` and ``.ci/run`` install it). A missing browser fails the tests that need it
with a sentence saying what to install, never a skip: a skipped browser test would pass the web view unseen.
"""

from __future__ import annotations

import base64
import os
import struct
from typing import Any

import pytest

CHROMIUM = os.environ.get("MURMUR_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags, Chromium keeps reaching for services a closed network cannot answer.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Set by the page's own scripts, never by content: run in every page before its content (Playwright's init
# scripts are the browser's, outside the page's Content-Security-Policy), they record each violation of it.
WATCH_CSP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));
"""


def launch(playwright: Any) -> Any:
    """Chromium, or a failure that says how to get it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"No browser at {CHROMIUM}: the web view's browser tests need Debian's Chromium. Install it as root "
            "with `apt-get install -y chromium` (`make test` does this), or set MURMUR_CHROMIUM to its path.",
            pytrace=False,
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header; fails the test when ``png`` is not a PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# Decoding a PNG in Python would need an imaging library; the browser already has one. Painted: the share of
# sampled pixels that differ from the top-left one, and how many colours the samples hold.
_INK = """async (src) => {
  const img = new Image(); img.src = src; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const bg = [d[0], d[1], d[2]]; let differ = 0, n = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 4 * 97) {
    n++; colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 48) differ++;
  }
  return {share: differ / n, colours: colours.size};
}"""


def ink(blank_page: Any, png: bytes) -> dict[str, float]:
    """How much of a screenshot is painted, measured by the browser on a page of its own (``about:blank``)."""
    result: dict[str, float] = blank_page.evaluate(_INK, "data:image/png;base64," + base64.b64encode(png).decode())
    return result
