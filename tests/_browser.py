"""Render an HTML page in headless Chromium: console messages, image sizes, a screenshot.

The page is copied next to the screenshot with one script added at its end that records every
image's natural size once the page has loaded; ``--dump-dom`` returns the DOM with that record,
``--enable-logging=stderr`` the console messages (``CONSOLE`` lines).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PROBE = """<script>
window.addEventListener("load", function () {
  var sizes = Array.prototype.map.call(document.images, function (im) {
    return im.naturalWidth + "x" + im.naturalHeight + "@" + im.width + "x" + im.height;
  });
  document.documentElement.setAttribute("data-ftlab-images", sizes.join(" ") || "none");
});
</script>"""


@dataclass
class Rendered:
    console: list[str]          # console messages (errors, warnings, logs)
    images: list[tuple[int, int, int, int]]  # natural width, height; rendered width, height
    screenshot: Path
    dom: str


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def render(chromium: str, page: Path, out_dir: Path, *, width: int = 1280,
           height: int = 3000) -> Rendered:
    """Load ``page`` headless; keep a screenshot ``out_dir/<page stem>.png``."""
    page, out_dir = page.resolve(), out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    probe = out_dir / f"{page.stem}.probe.html"
    html = page.read_text(encoding="utf-8")
    probe.write_text(html.replace("</body>", _PROBE + "</body>") if "</body>" in html
                     else html + _PROBE, encoding="utf-8")
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={out_dir / 'profile'}",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
            f"--window-size={width},{height}"]
    dumped = _run([*base, "--dump-dom", probe.as_uri()])
    shot = out_dir / f"{page.stem}.png"
    _run([*base, f"--screenshot={shot}", page.as_uri()])
    console = [m.group(1) for m in re.finditer(r":CONSOLE[^\]]*\] (.*)", dumped.stderr)]
    found = re.search(r'data-ftlab-images="([^"]*)"', dumped.stdout)
    images = []
    if found and found.group(1) != "none":
        for item in found.group(1).split():
            natural, shown = item.split("@")
            nw, nh = natural.split("x")
            sw, sh = shown.split("x")
            images.append((int(nw), int(nh), int(sw), int(sh)))
    return Rendered(console=console, images=images, screenshot=shot, dom=dumped.stdout)
