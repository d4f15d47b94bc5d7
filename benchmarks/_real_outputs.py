"""Real model outputs with their sources' verdicts, for benchmarks/grader.py.

The set (`real_outputs.jsonl`, built by another helper from public releases of evaluation
outputs; see its README.md) is found at $METAMATH_DATA/real_outputs or through --real. Each row:
id, source, model, family, task (gsm8k | math), problem, gold, completion, label (the source's
verdict), maybe gold_solution and source_extracted. `label_audit.jsonl` beside it lists the rows
whose label was read by hand and judged wrong; they are reported apart, never tuned to.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from metamath.answers.markers import marked_spans

ROOT = Path(__file__).resolve().parent.parent


def default_path() -> Path:
    data = Path(os.environ.get("METAMATH_DATA", ROOT.parent / "shared" / "data"))
    return data / "real_outputs" / "real_outputs.jsonl"


def load(path: Path, limit: int = 0) -> tuple[list[dict[str, Any]], set[str]]:
    """(rows, ids whose label the set's own audit judged wrong)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            row = json.loads(line)
            for field in ("id", "source", "task", "gold", "completion", "label"):
                if field not in row:
                    raise ValueError(f"{path}:{no}: field {field!r} missing")
            rows.append(row)
    if limit:  # a seeded sample across every source, not the first rows of the first one
        rows = random.Random(0).sample(rows, min(limit, len(rows)))
    audit_path = path.with_name("label_audit.jsonl")
    wrong = set()
    if audit_path.exists():
        wrong = {json.loads(x)["id"] for x in audit_path.read_text().splitlines() if x.strip()}
    return rows, wrong


def failure_class(row: dict[str, Any], g: Any, wrong_labels: set[str]) -> str:
    """Why ours and the label differ on a row, in words a reader can check."""
    if row["id"] in wrong_labels:
        return "label judged wrong by the set's audit (label_audit.jsonl)"
    if g.reason == "no_answer":
        if any(span.strip() for span, *_ in marked_spans(row["completion"])):
            # a marker states something no rule reads as one answer (metamath.answers.reading)
            return "ours: the marked answer is ambiguous or in words (no answer, no guess)"
        return "ours finds no answer"
    if g.reason in ("timeout", "too_long", "error"):
        return f"ours: {g.reason}"
    if g.correct:
        src = row.get("source_extracted")
        if src is not None and str(src).strip() not in str(g.extracted):
            return "ours accepts a different answer than the source graded (several answers)"
        return "ours accepts a value the source rejects (unreduced, unevaluated, prose)"
    if g.mode == "flexible":
        return "ours rejects: no marker, the last-expression guess missed"
    return "ours rejects the marked answer"


def label_report(rows, verdicts, wrong_labels, grades) -> dict[str, Any]:
    """Agreement with the labels (all rows, per source, per task, without the audited rows)."""
    out: dict[str, Any] = {}
    for name, v in verdicts.items():
        agree = [v[i] == r["label"] for i, r in enumerate(rows)]
        by_src, by_task = defaultdict(list), defaultdict(list)
        for i, r in enumerate(rows):
            by_src[r["source"].split("@")[0]].append(agree[i])
            by_task[r["task"]].append(agree[i])
        clean = [a for a, r in zip(agree, rows, strict=True) if r["id"] not in wrong_labels]
        out[name] = {
            "agreement": sum(agree) / len(rows),
            "agreement_without_audited_labels": sum(clean) / max(1, len(clean)),
            "by_source": {k: sum(x) / len(x) for k, x in sorted(by_src.items())},
            "by_task": {k: sum(x) / len(x) for k, x in sorted(by_task.items())},
        }
    disagreements = []
    for i, r in enumerate(rows):
        g = grades[i]
        if g.correct != r["label"]:
            disagreements.append(
                {
                    "class": failure_class(r, g, wrong_labels),
                    "id": r["id"],
                    "label": r["label"],
                    "gold": r["gold"],
                    "ours_extracted": g.extracted,
                    "ours_reason": g.reason,
                    "source_extracted": r.get("source_extracted"),
                    "completion_tail": r["completion"][-300:],
                }
            )
    out["disagreements"] = disagreements
    out["by_class"] = dict(Counter(d["class"] for d in disagreements).most_common())
    out["audited_labels_in_set"] = sum(r["id"] in wrong_labels for r in rows)
    return out
