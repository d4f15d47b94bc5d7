"""Paired comparison of two eval runs on the same items: which problems flipped, and is the
difference more than noise?

    cmp = compare_runs("runs/eval/a", "runs/eval/b", mode="strict")
    cmp["tasks"]["gsm8k"]["p_value"], cmp["tasks"]["gsm8k"]["gained"]

One sample per problem: McNemar's exact test (two-sided binomial test on the discordant pairs;
McNemar 1947, exact form as in Fagerland et al. 2013), the test for paired binary outcomes.
Several samples per problem: a paired bootstrap over problems of the difference in per-problem
accuracy (Efron & Tibshirani 1993; as used for NLP by Koehn 2004).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from metamath.io import read_jsonl


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b (A right, B wrong) and c (A wrong, B right)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    # Exact rational arithmetic: 2**n overflows a float for n > 1023 discordant pairs.
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def paired_bootstrap(
    a: list[float], b: list[float], iters: int = 2000, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """(two-sided p-value, 95% interval) of mean(b - a), resampling problems with replacement."""
    d = [y - x for x, y in zip(a, b, strict=True)]
    m = len(d)
    if m == 0:
        return 1.0, (0.0, 0.0)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(d, k=m)) / m for _ in range(iters))
    le = sum(v <= 0 for v in means) / iters
    ge = sum(v >= 0 for v in means) / iters
    return min(1.0, 2 * min(le, ge)), (means[int(0.025 * iters)], means[int(0.975 * iters) - 1])


def _per_problem(path: Path, mode: str) -> dict[str, dict[str, tuple[float, int, dict[str, Any]]]]:
    """task -> problem id -> (accuracy over its samples, number of samples, first sample row)."""
    acc: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for _, r in read_jsonl(path):
        acc[r.get("eval_task") or r["task"]][str(r["problem_id"])].append(r)
    out: dict[str, dict[str, tuple[float, int, dict[str, Any]]]] = {}
    for task, probs in acc.items():
        out[task] = {}
        for pid, rs in probs.items():
            verdicts = [
                bool(r[mode]["correct"]) if isinstance(r.get(mode), dict) else bool(r["correct"])
                for r in rs
            ]
            out[task][pid] = (sum(verdicts) / len(verdicts), len(verdicts), rs[0])
    return out


def _samples(run: str | Path) -> Path:
    p = Path(run)
    p = p / "samples.jsonl" if p.is_dir() else p
    if not p.exists():
        raise FileNotFoundError(f"{p}: no samples.jsonl (pass an eval run directory)")
    return p


def _task_meta(run: str | Path) -> dict[str, Any]:
    """results.json's per-task version and content hash, where the run directory has one."""
    p = Path(run)
    res = p / "results.json" if p.is_dir() else p.parent / "results.json"
    if not res.exists():
        return {}
    import json

    tasks = json.loads(res.read_text(encoding="utf-8")).get("tasks", {})
    return {t: (v.get("version"), v.get("content_hash")) for t, v in tasks.items()}


def compare_runs(
    run_a: str | Path, run_b: str | Path, mode: str = "strict", max_flips: int = 50
) -> dict[str, Any]:
    """Compare two runs task by task on the problems both scored (B minus A)."""
    if mode not in ("strict", "flexible", "primary"):
        raise ValueError(f"mode={mode!r}: use strict, flexible or primary")
    key = "correct" if mode == "primary" else mode
    a, b = _per_problem(_samples(run_a), key), _per_problem(_samples(run_b), key)
    meta_a, meta_b = _task_meta(run_a), _task_meta(run_b)
    out: dict[str, Any] = {"run_a": str(run_a), "run_b": str(run_b), "mode": mode, "tasks": {}}
    for task in sorted(set(a) & set(b)):
        ids = [i for i in a[task] if i in b[task]]
        sa = [a[task][i][0] for i in ids]
        sb = [b[task][i][0] for i in ids]
        binary = all(a[task][i][1] == 1 and b[task][i][1] == 1 for i in ids)  # n == 1
        gained = [i for i in ids if b[task][i][0] > a[task][i][0]]
        lost = [i for i in ids if b[task][i][0] < a[task][i][0]]
        res: dict[str, Any] = {
            "n_paired": len(ids),
            "only_in_a": len(a[task]) - len(ids),
            "only_in_b": len(b[task]) - sum(i in a[task] for i in b[task]),
            "accuracy_a": sum(sa) / len(ids) if ids else 0.0,
            "accuracy_b": sum(sb) / len(ids) if ids else 0.0,
            "gained": gained[:max_flips],
            "lost": lost[:max_flips],
            "n_gained": len(gained),
            "n_lost": len(lost),
        }
        res["difference"] = res["accuracy_b"] - res["accuracy_a"]
        va, vb = meta_a.get(task, (None, None))[0], meta_b.get(task, (None, None))[0]
        if va and vb and va != vb:
            res["warning"] = (
                f"task version differs (A {va}, B {vb}): the items or their "
                "grading changed between the runs"
            )
        if binary:
            res["test"] = "mcnemar_exact"
            res["p_value"] = mcnemar_exact(len(lost), len(gained))
        else:
            res["test"] = "paired_bootstrap"
            res["p_value"], ci = paired_bootstrap(sa, sb)
            res["difference_ci95"] = list(ci)
        res["flips"] = [
            {
                "id": i,
                "direction": "gained" if i in gained else "lost",
                "gold": a[task][i][2].get("gold"),
                "a_extracted": _ext(a[task][i][2], key),
                "b_extracted": _ext(b[task][i][2], key),
            }
            for i in (gained + lost)[:max_flips]
        ]
        out["tasks"][task] = res
    if not out["tasks"]:
        raise ValueError(f"{run_a} and {run_b} share no task; nothing to compare")
    return out


def _ext(row: dict[str, Any], key: str) -> Any:
    got = row.get(key)
    return got["extracted"] if isinstance(got, dict) else row.get("extracted")
