"""What the quickstart's index page shows, read from the run's own files: one real example per
technique (the question and its kept answer, or the best attempt and why it was rejected), a
rewrite the checks turned away, and how the student's answers changed with fine-tuning.

    examples = technique_examples(run / "augment")
    change = answer_changes(run / "eval_before"), answer_changes(run / "eval_after")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from metamath.io import read_jsonl

TECHNIQUES = ("answer_aug", "rephrase", "fobar", "self_verification")
# What to expect on GSM8K, so a reader can place the numbers. SmolLM2: lm-evaluation-harness's
# gsm8k task (5-shot, flexible-extract) on the first 50 test problems, measured in this project
# (issue 14); the README's Quickstart section has the figures for the run shown there.
EXPECTED = (
    "Random weights score 0%. A 135M model such as SmolLM2-135M-Instruct scores about 0-2% on "
    "GSM8K (lm-evaluation-harness's gsm8k task, 5-shot flexible-extract: 1 of the first 50 "
    "test problems and 0 of the first 20, measured in this project); MetaMath's paper reports "
    "66.5% for a fine-tuned 7B model."
)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [r for _, r in read_jsonl(path)] if path.exists() else []


def technique_examples(aug_dir: Path) -> dict[str, dict[str, Any]]:
    """technique -> {"question", "answer", "kept", "reason", "type"}: a kept row where there is
    one, else the attempt whose reply got furthest (had an answer), with its rejection reason."""
    out: dict[str, dict[str, Any]] = {}
    for row in _rows(aug_dir / "metamathqa.jsonl"):
        t = row.get("technique")
        if t in TECHNIQUES and t not in out:
            out[t] = {
                "question": row["query"],
                "answer": row["response"],
                "kept": True,
                "reason": None,
                "type": row.get("type"),
            }
    rank = {"mismatch": 0, "truncated": 1, "no_reasoning": 2, "no_answer": 3}
    best: dict[str, tuple[int, dict]] = {}
    for row in _rows(aug_dir / "work" / "candidates.jsonl"):
        t = row.get("technique")
        if t in out or t not in TECHNIQUES:
            continue
        r = rank.get(row.get("reason"), 9)
        if t not in best or r < best[t][0]:
            best[t] = (r, row)
    for t, (_, row) in best.items():
        out[t] = {
            "question": row["query"],
            "answer": row["response"],
            "kept": False,
            "reason": row.get("reason"),
            "extracted": row.get("extracted"),
            "target": row.get("target"),
            "type": row.get("type"),
        }
    return {t: out[t] for t in TECHNIQUES if t in out}


def rejected_rewrites(aug_dir: Path) -> dict[str, dict[str, Any]]:
    """technique -> a rephrasing or SV statement the question checks turned away, with the
    reason (one that says more than "empty" where there is one)."""
    out: dict[str, dict[str, Any]] = {}
    for technique, name in (
        ("rephrase", "rephrasings.jsonl"),
        ("self_verification", "statements.jsonl"),
    ):
        rows = [r for r in _rows(aug_dir / "work" / name) if r.get("reason")]
        rows.sort(key=lambda r: r["reason"] in ("empty", "truncated"))
        if rows:
            out[technique] = {
                "text": rows[0].get("raw") or rows[0].get("text"),
                "reason": rows[0]["reason"],
            }
    return out


def answer_changes(eval_dir: Path) -> dict[str, Any] | None:
    """Rates over the student's answers: the trained answer format ("The answer is:") adopted,
    no answer found, cut off at max_tokens; mean answer length; the first answer."""
    rows = _rows(eval_dir / "samples.jsonl")
    if not rows:
        return None
    n = len(rows)
    res = eval_dir / "results.json"
    metrics = {}
    if res.exists():
        metrics = json.loads(res.read_text(encoding="utf-8"))["tasks"]["gsm8k"]["metrics"]
    return {
        "n": n,
        "answer_format": sum(r["strict"]["extracted"] is not None for r in rows) / n,
        "no_answer": sum(r["flexible"]["extracted"] is None for r in rows) / n,
        "truncated": sum(r.get("finish_reason") == "length" for r in rows) / n,
        "mean_chars": round(sum(len(r["completion"]) for r in rows) / n),
        "ci95": {m: metrics.get(m, {}).get("ci95") for m in ("strict", "flexible")},
        "first": {
            "question": rows[0]["prompt"],
            "completion": rows[0]["completion"],
            "gold": rows[0]["gold"],
            "correct": rows[0]["correct"],
        },
    }


# What each technique is, as the index page names it.
NAMES = {
    "answer_aug": "Answer augmentation (AnsAug): the seed question, solved by the teacher",
    "rephrase": "Rephrasing: the teacher's rewrite of the question, solved",
    "fobar": "FOBAR: a number masked as x, the answer given; find x",
    "self_verification": "Self-verification (SV): the question turned into a statement; find x",
}


def interval(summary: dict[str, Any], which: str, mode: str) -> str:
    ci = ((summary.get(which) or {}).get("ci95") or {}).get(mode)
    return "" if not ci else f" [{100 * ci[0]:.0f}, {100 * ci[1]:.0f}]"
