"""`metamath quickstart` fully offline with the tiny model as teacher and student."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from metamath.io import read_jsonl


def _run(args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "metamath", "quickstart", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_offline_hub_model_fails_fast_with_the_fix(tmp_path):
    r = _run(
        [f"out={tmp_path / 'q'}", "teacher=someone/not-a-local-model"],
        env={"HF_HUB_OFFLINE": "1"},
        timeout=120,
    )
    assert r.returncode == 2
    assert "teacher 'someone/not-a-local-model'" in r.stderr and "HF_HUB_OFFLINE=1" in r.stderr
    assert not (tmp_path / "q" / "augment").exists()  # nothing was started


@pytest.mark.slow
def test_quickstart_offline_end_to_end(tmp_path, tiny_model_dir, data_dir):
    out = tmp_path / "qs"
    args = [
        f"teacher={tiny_model_dir}",
        f"student={tiny_model_dir}",
        f"out={out}",
        "seeds=3",
        "sft_rows=3",
        "eval_limit=4",
        "train_steps=3",
        "max_tokens=24",
        "--no-progress",
    ]
    r = _run(args, env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "open" in r.stdout and "index.html" in r.stdout
    for rel in [
        "config.yaml",
        "summary.json",
        "index.html",
        "train_data.jsonl",
        "augment/metamathqa.jsonl",
        "augment/rejected.jsonl",
        "augment/stats.json",
        "augment/DATA_CARD.md",
        "train/loss.svg",
        "train/metrics.jsonl",
        "train/model/config.json",
        "eval_before/samples.jsonl",
        "eval_before/results.json",
        "eval_before/report.html",
        "eval_after/samples.jsonl",
        "eval_after/results.json",
        "eval_after/report.html",
    ]:
        assert (out / rel).exists(), rel
        # a random teacher may keep nothing (then metamathqa.jsonl is empty, stats say so)
        assert rel == "augment/metamathqa.jsonl" or (out / rel).stat().st_size > 0, rel
    summary = json.loads((out / "summary.json").read_text())
    stats = json.loads((out / "augment" / "stats.json").read_text())
    # every technique ran and sampled; the data accounting adds up
    for tech in ("answer_aug", "rephrase", "fobar", "self_verification"):
        t = stats["techniques"][tech]
        assert t["kept"] + sum(t["rejected"].values()) == t["samples"], tech
    assert stats["techniques"]["answer_aug"]["samples"] == 3 * 2
    kept = len(list(read_jsonl(out / "augment" / "metamathqa.jsonl")))
    assert summary["train_data"] == {"bootstrapped": kept, "seed_solutions": 3}
    assert len(list(read_jsonl(out / "train_data.jsonl"))) == kept + 3
    # both evaluations scored the same 4 problems
    for step in ("eval_before", "eval_after"):
        rows = [r for _, r in read_jsonl(out / step / "samples.jsonl")]
        assert len(rows) == 4
        acc = sum(r["correct"] for r in rows) / 4
        res = json.loads((out / step / "results.json").read_text())
        assert res["summary"]["gsm8k"]["strict"] == acc
    assert (
        summary["accuracy_before"]["strict"]
        == json.loads((out / "eval_before" / "results.json").read_text())["summary"]["gsm8k"][
            "strict"
        ]
    )
    # every link of index.html resolves, to a rendered page (not raw .md/.jsonl text)
    page = (out / "index.html").read_text()
    files = [h for h in re.findall(r'href="([^"]+)"', page) if not h.startswith("#")]
    assert sorted(files) == sorted(
        [
            "augment/DATA_CARD.html",
            "train/report.html",
            "eval_before/report.html",
            "eval_after/report.html",
        ]
    )
    for href in files:
        assert (out / href).exists(), href
    assert "<svg" in page  # the training curve is inline
    # the page shows the method on the run's own text and how the answers changed
    text = html.unescape(page)  # what a reader sees, whichever characters were escaped
    assert "What changed in the student's answers" in text and "cut off at max_tokens" in text
    for name in ("AnsAug", "Rephrasing", "FOBAR", "Self-verification"):
        assert name in text
    assert summary["examples"]["answer_aug"]["question"] in text
    assert summary["answers_before"]["n"] == 4
    for tech in ("answer_aug", "rephrase", "fobar", "self_verification"):
        assert f'<td class="t">{tech}</td>' in page
    assert "{'" not in text and '"teacher":' not in text  # no raw dict or JSON dump
    assert (out / "index.md").exists()
    assert summary["augment"]["answer_aug"]["samples"] == 6
    assert Path(summary["model"]).is_dir()

    # a re-run resumes: nothing is regenerated or retrained
    mtime = (out / "train" / "model" / "config.json").stat().st_mtime
    r2 = _run(args, env={"HF_HUB_OFFLINE": "1"})
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert (out / "train" / "model" / "config.json").stat().st_mtime == mtime
    assert (
        json.loads((out / "summary.json").read_text())["accuracy_after"]
        == summary["accuracy_after"]
    )
