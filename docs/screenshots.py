"""Remake the report screenshots in docs/ from real runs (offline, CPU, a few minutes).

    python docs/screenshots.py                       # tiny random model, built here
    python docs/screenshots.py --model DIR           # any local model as teacher and student

Runs, in a scratch directory: `metamath quickstart` (index.html, the training report, the
evaluation report and the data card of its teacher), and `metamath augment` with the scripted
teacher (a data card with kept and rejected rows). Each page is rendered by headless Chromium
(tests/_browser.py) at 1100 px and cropped to its first screen, as a reader opens it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from _browser import screenshot  # noqa: E402


def metamath(*args: str, cwd: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "metamath", *args], cwd=cwd, env=env)
    if r.returncode:
        sys.exit(f"metamath {' '.join(args)} failed ({r.returncode})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="local model for teacher and student (default: tiny)")
    ap.add_argument("--work", help="scratch directory (default: a temporary one)")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--eval-limit", type=int, default=8)
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="metamath-shots-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    model = a.model
    if model is None:
        model = str(work / "tiny")
        metamath("tiny-model", model, cwd=work)
    qs = work / "qs"
    metamath(
        "quickstart",
        f"teacher={model}",
        f"student={model}",
        f"seeds={a.seeds}",
        f"eval_limit={a.eval_limit}",
        f"out={qs}",
        "--no-progress",
        cwd=work,
    )
    aug = work / "aug"
    metamath(
        "augment",
        "--config",
        str(REPO / "configs/augment/quickstart.yaml"),
        "teacher.backend=scripted",
        "teacher.options={p_correct: 0.7, p_bad_rewrite: 0.2}",
        "--out",
        str(aug),
        "--no-progress",
        cwd=work,
    )
    docs = REPO / "docs"
    shots = [
        (qs / "index.html", "quickstart_index.png", 1500),
        (aug / "DATA_CARD.html", "data_card.png", 1500),
        (qs / "train" / "report.html", "training_report.png", 1100),
        (qs / "eval_before" / "report.html", "eval_report.png", 1500),
    ]
    for page, name, height in shots:
        png = screenshot(page, docs / name, width=1100, height=height)
        print(f"{png.relative_to(REPO)}: {png.stat().st_size:,} bytes, from {page}")


if __name__ == "__main__":
    main()
