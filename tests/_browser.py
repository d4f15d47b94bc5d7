"""Headless Chromium for the report tests and docs/screenshots.py: render a page, read back what
a reader sees (text outside <pre>, elements wider than their box), take a screenshot.

The measuring script is added to a copy of the page only (the reports themselves have no
script). Chromium starts with a fresh profile, no GPU, no sandbox (containers) and no network
services, and is killed with its whole process group if it hangs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--hide-scrollbars",
]

# What a reader sees: the text outside <pre> (model output there may say anything), and every
# element whose content is wider than its box or that ends right of the viewport.
PROBE = """<script>(function () {
  var W = document.documentElement.clientWidth, bad = [];
  if (document.documentElement.scrollWidth > W + 1)
    bad.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + W);
  document.body.querySelectorAll("*").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (el.closest("details:not([open])") || r.width === 0) return;
    if (el.ownerSVGElement) return;  // inside a chart: the <svg> box itself is measured
    var what = el.tagName + (el.getAttribute("class") ? "." + el.getAttribute("class") : "") + " '" +
      (el.textContent || "").slice(0, 40) + "'";
    if (r.right > W + 1) bad.push(what + " ends at x=" + Math.round(r.right) + " > " + W);
    else if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      bad.push(what + " content " + el.scrollWidth + " wider than its box " + el.clientWidth);
  });
  // the text as laid out (innerText), without <pre> blocks: model output there may say anything
  document.querySelectorAll("pre").forEach(function (e) { e.remove(); });
  var text = document.body.innerText;
  var out = document.createElement("textarea");
  out.id = "__probe";
  out.textContent = JSON.stringify({overflow: bad, text: text, width: W});
  document.body.appendChild(out);
})();</script>"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _run(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    exe = chromium()
    assert exe, "headless Chromium not installed"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser and its helper processes
            proc.communicate()
            raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def render(page: Path, width: int = 1100, height: int = 1400) -> dict:
    """{"overflow": [...], "text": ..., "width": ...} as Chromium lays the page out."""
    html = page.read_text(encoding="utf-8")
    probe = page.with_name(f".probe-{page.name}")  # beside it: relative links still resolve
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        r = _run([f"--window-size={width},{height}", "--dump-dom", probe.resolve().as_uri()])
    finally:
        probe.unlink()
    m = re.search(r'<textarea id="__probe">(.*?)</textarea>', r.stdout, re.S)
    assert m, f"the page did not render: {r.stderr[-2000:]}"
    import html as _html

    return json.loads(_html.unescape(m.group(1)))


def screenshot(page: Path, png: Path, width: int = 1100, height: int = 1400) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    r = _run([f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()])
    assert png.exists(), r.stderr[-2000:]
    return png
