"""Every HTML report rendered in headless Chromium: what a reader sees has the numbers, no
"None", no Python dict syntax, and nothing wider than its box (slow; skips without Chromium).

The reports come from real runs: the quickstart on the tiny model (index, data card of a teacher
that keeps nothing, training report, evaluation), an augmentation run with the scripted teacher
(a data card with kept rows), and an evaluation with untrusted model text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from _browser import chromium, render, screenshot
from metamath.report import num, pct

pytestmark = pytest.mark.slow

WIDTHS = (1100, 800)  # a desktop window, and a narrow one (half a laptop screen)
# Python reprs and placeholder text that must never reach a reader
DEBUG = [
    re.compile(r"\bNone\b"),
    re.compile(r"\{'|'\}|': "),  # a dict's repr
    re.compile(r"\(es\)|\(s\)"),  # "process(es)"
    re.compile(r"\s[.,;]"),  # a stray space before punctuation ("removed .")
    re.compile(r"\d\.\d{7,}"),  # a float's full repr (7.6306538581848145)
    re.compile(r"Traceback"),
]


@pytest.fixture(scope="module", autouse=True)
def _browser():
    if chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def quickstart(tiny_model_dir, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("qs") / "qs"
    args = [f"teacher={tiny_model_dir}", f"student={tiny_model_dir}", f"out={out}"]
    args += ["seeds=3", "eval_limit=4", "train_steps=3", "max_tokens=24", "--no-progress"]
    r = subprocess.run(
        [sys.executable, "-m", "metamath", "quickstart", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _seen(page) -> str:
    """What the reader sees (text outside <pre>) at each width; asserts nothing overflows."""
    text = ""
    for width in WIDTHS:
        got = render(page, width=width)
        assert got["width"] == width
        assert got["overflow"] == [], (page.name, width, got["overflow"][:5])
        text = got["text"]
    for pattern in DEBUG:
        assert not pattern.search(text), (page.name, pattern.pattern, pattern.search(text))
    return " ".join(text.split())


def test_quickstart_index(quickstart):
    seen = _seen(quickstart / "index.html")
    summary = json.loads((quickstart / "summary.json").read_text())
    b, a = summary["accuracy_before"], summary["accuracy_after"]
    assert f"{pct(b['strict'])} → {pct(a['strict'])}" in seen  # the key number comes first
    assert seen.index("GSM8K accuracy, strict") < seen.index("Bootstrapping")
    assert "random weights" in seen and "score 0%" in seen  # what 0% means here
    assert f"{num(summary['loss'][0])} → {num(summary['loss'][1])}" in seen
    assert "ln V" in seen  # the loss plot's baseline is labelled
    links = re.findall(r'href="([^"#][^"]*)"', (quickstart / "index.html").read_text())
    assert links and all(h.endswith(".html") and (quickstart / h).exists() for h in links)


def test_quickstart_data_card_of_a_teacher_that_keeps_nothing(quickstart):
    seen = _seen(quickstart / "augment" / "DATA_CARD.html")
    stats = json.loads((quickstart / "augment" / "stats.json").read_text())
    assert f"rows kept {stats['rows']}" in seen
    if not stats["rows"]:  # the tiny random teacher: the card says so and shows rejections
        assert "No sample reached assembly" in seen or "available" in seen
        assert "No row was kept" in seen and "Rejected samples" in seen
    for t, v in stats["techniques"].items():
        assert f"{t} {v['requests']} {v['samples']} {v['kept']}" in seen


def test_quickstart_training_report(quickstart):
    seen = _seen(quickstart / "train" / "report.html")
    stats = json.loads((quickstart / "train" / "stats.json").read_text())
    assert f"training loss {num(stats['final_loss'])}" in seen
    assert "1 process," in seen and "MFU: n/a" in seen
    assert "checkpoints" not in seen  # none were written (save_steps=0)


def test_quickstart_eval_report(quickstart):
    seen = _seen(quickstart / "eval_before" / "report.html")
    res = json.loads((quickstart / "eval_before" / "results.json").read_text())
    m = res["tasks"]["gsm8k"]["metrics"]
    assert f"gsm8k accuracy (strict) {100 * m['strict']['accuracy']:.1f}%" in seen
    assert "no answer % (strict)" in seen and "no answer % (flexible)" in seen
    assert f"{num(res['usage']['prompt_tokens'])} prompt" in seen


def test_data_card_with_kept_rows(tmp_path, data_dir):
    out = tmp_path / "aug"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "metamath",
            "augment",
            "--config",
            "configs/augment/quickstart.yaml",
            "teacher.backend=scripted",
            "teacher.options={p_correct: 0.7, p_bad_rewrite: 0.2}",
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    seen = _seen(out / "DATA_CARD.html")
    stats = json.loads((out / "stats.json").read_text())
    assert stats["rows"] > 0 and f"rows kept {stats['rows']}" in seen
    for t, v in stats["types"].items():
        assert f"{t} {v['available']} all {v['kept']} {v['shortfall']}" in seen
    assert "Examples" in seen and "Rejected samples" in seen
    png = screenshot(out / "DATA_CARD.html", tmp_path / "card.png")
    assert png.stat().st_size > 20_000  # a blank page compresses to a few KB


def test_eval_report_with_untrusted_model_text(tmp_path):
    from metamath.evaluate import run_eval
    from test_report import ScriptedLLM, cfg_for, hostile

    run_eval(cfg_for(tmp_path), tmp_path / "run", llm=ScriptedLLM(hostile), progress=False)
    page = tmp_path / "run" / "report.html"
    seen = _seen(page)
    assert "mine accuracy (strict) 41.7%" in seen and "95% CI 19.3–68.0" in seen
    assert "random weights" in seen
    dom = render(page)["text"]
    assert "alert(" not in dom  # the model's <script> is text inside <pre>, never run
