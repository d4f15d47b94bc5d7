"""Remake the report screenshots in docs/ from real runs (offline, CPU, a few minutes).

    python docs/screenshots.py                       # tiny random model, built here
    python docs/screenshots.py --model DIR           # any local model as teacher and student
    python docs/screenshots.py --gguf FILE.gguf      # a GGUF file, converted once (as in docs/)

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


def from_gguf(gguf: Path, out: Path) -> str:
    """A transformers directory from a GGUF file: transformers dequantizes it to float32, and a
    model built from its config without the quantization entry can be saved."""
    if not (out / "config.json").exists():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config)
        model.load_state_dict(loaded.state_dict())
        model.save_pretrained(out)
        tok.save_pretrained(out)
    return str(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--model", help="local model directory for teacher and student (default: the tiny one)"
    )
    ap.add_argument("--gguf", help="a .gguf model file, converted for teacher and student")
    ap.add_argument("--work", help="scratch directory (default: a temporary one)")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--eval-limit", type=int, default=8)
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="metamath-shots-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    # paths relative to the scratch directory, as a reader's own runs/ would show them
    (work / "runs").mkdir(exist_ok=True)
    model = "runs/model"
    if a.gguf and not (work / model).exists():
        from_gguf(Path(a.gguf).resolve(), work / model)
    elif a.model:
        if not (work / model).exists():
            (work / model).symlink_to(Path(a.model).resolve())
    elif not (work / model).exists():
        metamath("tiny-model", model, cwd=work)
    metamath(
        "quickstart",
        f"teacher={model}",
        f"student={model}",
        f"seeds={a.seeds}",
        f"eval_limit={a.eval_limit}",
        "out=runs/quickstart",
        "--no-progress",
        cwd=work,
    )
    metamath(
        "augment",
        "--config",
        str(REPO / "configs/augment/quickstart.yaml"),
        "teacher.backend=scripted",
        "teacher.options={p_correct: 0.7, p_bad_rewrite: 0.2}",
        "--out",
        "runs/augment-scripted",
        "--no-progress",
        cwd=work,
    )
    qs, aug = work / "runs" / "quickstart", work / "runs" / "augment-scripted"
    docs = REPO / "docs"
    shots = [
        (qs / "index.html", "quickstart_index.png", 1500),
        (aug / "DATA_CARD.html", "data_card.png", 1500),
        (qs / "train" / "report.html", "training_report.png", 1100),
        (qs / "eval_before" / "report.html", "eval_report.png", 1500),
    ]
    for page, name, height in shots:
        png = small(screenshot(page, docs / name, width=1100, height=height))
        print(f"{png.relative_to(REPO)}: {png.stat().st_size:,} bytes, from {page}")


def small(png: Path) -> Path:
    """128 colours are plenty for a text page: the file is about a third of the size."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with the [hf] extra; without it the PNG stays as is
        return png
    Image.open(png).convert("RGB").quantize(128, method=Image.Quantize.MEDIANCUT).save(
        png, optimize=True
    )
    return png


if __name__ == "__main__":
    main()
