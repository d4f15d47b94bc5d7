"""Scores from graded sample rows: accuracy with a 95% interval, no-answer and truncated rates,
per subject/level breakdowns, unbiased pass@k and maj@k. Pure Python (no numpy, no torch), so
`metamath grade` and `metamath compare` run anywhere.

A row is one sample: {"problem_id", "sample", "strict": {"correct", "extracted", "reason"},
"flexible": {...}, "finish_reason", "error", "subject", "level"} (see run.py).
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from metamath.answers.extract import MODES

Z95 = 1.959963984540054


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927); sound at p near 0 or 1 and
    at small n, where the normal interval is not."""
    if n == 0:
        return (0.0, 0.0)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_mean_ci(values: list[float], iters: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of a mean (used for per-problem scores in [0, 1] when
    n > 1 samples per problem, where a binomial interval would overstate the sample size)."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    m = len(values)
    means = sorted(sum(rng.choices(values, k=m)) / m for _ in range(iters))
    return (means[int(0.025 * iters)], means[min(iters - 1, int(0.975 * iters))])


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021, Codex paper, eq. 1): 1 - C(n-c, k) / C(n, k),
    computed as a product for numerical stability, as in their reference code."""
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def majority_correct(
    samples: list[dict[str, Any]], mode: str, equiv: Callable[[str, str], bool] | None = None
) -> bool:
    """maj@k for one problem: vote among the extracted answers of `samples` (no answer = no
    vote); equal strings vote together, and `equiv` (e.g. answers.is_equiv) merges equivalent
    spellings ("0.5" and "\\frac12"). Ties go to the answer seen first (deterministic)."""
    clusters: list[tuple[str, int, bool]] = []  # (representative, votes, correct)
    for s in samples:
        g = s[mode]
        ans = g.get("extracted")
        if ans is None:
            continue
        ans = str(ans).strip()
        for i, (rep, votes, ok) in enumerate(clusters):
            if ans == rep or (equiv is not None and equiv(ans, rep)):
                clusters[i] = (rep, votes + 1, ok)
                break
        else:
            clusters.append((ans, 1, bool(g.get("correct"))))
    if not clusters:
        return False
    best = max(range(len(clusters)), key=lambda i: (clusters[i][1], -i))
    return clusters[best][2]


def _group(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[str(r["problem_id"])].append(r)
    for v in by.values():
        v.sort(key=lambda r: r.get("sample", 0))
    return dict(by)


def _mode_stats(problems: dict[str, list[dict[str, Any]]], mode: str, n: int) -> dict[str, Any]:
    samples = [s for v in problems.values() for s in v]
    correct = sum(bool(s[mode]["correct"]) for s in samples)
    total = len(samples)
    reasons = Counter(s[mode]["reason"] for s in samples)
    if n == 1:
        ci = wilson(correct, total)
    else:
        ci = bootstrap_mean_ci(
            [sum(bool(s[mode]["correct"]) for s in v) / len(v) for v in problems.values()]
        )
    return {
        "accuracy": correct / total if total else 0.0,
        "correct": correct,
        "total": total,
        "ci95": [ci[0], ci[1]],
        "ci_method": "wilson" if n == 1 else "bootstrap",
        "no_answer_rate": reasons.get("no_answer", 0) / total if total else 0.0,
        "reasons": dict(sorted(reasons.items())),
    }


def _breakdown(problems: dict[str, list[dict[str, Any]]], key: str) -> dict[str, Any]:
    buckets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in problems.values():
        if v[0].get(key) is not None:
            buckets[str(v[0][key])].extend(v)
    out = {}
    for name in sorted(buckets):
        rows = buckets[name]
        out[name] = {"n": len({r["problem_id"] for r in rows}), "samples": len(rows)}
        for mode in MODES:
            c = sum(bool(r[mode]["correct"]) for r in rows)
            out[name][mode] = c / len(rows)
            out[name][f"{mode}_correct"] = c
            if out[name]["n"] == len(rows):  # one sample per problem: a binomial interval
                out[name][f"{mode}_ci95"] = list(wilson(c, len(rows)))
    return out


def task_metrics(
    rows: list[dict[str, Any]],
    *,
    ks: Iterable[int] = (),
    equiv: Callable[[str, str], bool] | None = None,
) -> dict[str, Any]:
    """Every number the report shows for one task, from its sample rows alone."""
    problems = _group(rows)
    counts = {len(v) for v in problems.values()}
    n = max(counts) if counts else 0
    total = sum(len(v) for v in problems.values())
    out: dict[str, Any] = {
        "n_problems": len(problems),
        "n_samples": total,
        "samples_per_problem": n,
        "truncated_rate": (
            sum(r.get("finish_reason") == "length" for r in rows) / total if total else 0.0
        ),
        "error_rate": sum(bool(r.get("error")) for r in rows) / total if total else 0.0,
    }
    for mode in MODES:
        out[mode] = _mode_stats(problems, mode, n)
    for key, name in (("subject", "by_subject"), ("level", "by_level")):
        bd = _breakdown(problems, key)
        if bd:
            out[name] = bd
    ks = sorted({k for k in ks if 1 <= k <= n} | ({n} if n > 1 else set()))
    if n > 1 and len(counts) == 1:  # pass@k/maj@k need the same n for every problem
        for mode in MODES:
            out[mode]["pass@k"] = {
                str(k): sum(
                    pass_at_k(n, sum(bool(s[mode]["correct"]) for s in v), k)
                    for v in problems.values()
                )
                / len(problems)
                for k in ks
            }
            out[mode]["maj@k"] = {
                str(k): sum(majority_correct(v[:k], mode, equiv) for v in problems.values())
                / len(problems)
                for k in ks
            }
    return out
