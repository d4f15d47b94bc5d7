"""Sampling budgets at the same number of samples: fixed k (MetaMath) vs uniform vs prop2diff.

    python benchmarks/augment_budget.py                  # 500 GSM8K + 500 MATH seeds
    python benchmarks/augment_budget.py --seeds 200 --k 4

A scripted teacher solves each seed question (and its FOBAR questions) with its own probability,
spread evenly over 0.02-0.9. `fixed` draws k samples per question; `uniform` and `prop2diff`
get exactly the samples fixed spent (total_samples per technique), one sample per question in
round 1 (prop2diff: two, to measure the fail rate), then rounds that serve the questions with the fewest kept samples first. Printed per
budget: samples drawn, rows kept, coverage (questions with at least one kept sample) overall and
in the hardest quartile (by the teacher's true rate), kept samples in that quartile, and samples
drawn per kept sample. No model, no network: it measures the allocation, not a teacher.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path


def run(budget: str, k: int, n_seeds: int, totals: dict | None, out: Path):
    from metamath.augment import AugmentConfig, SeedConfig, TechniqueConfig, run_augment
    from metamath.augment.scripted import ScriptedTeacher
    from metamath.augment.seeds import load_seeds

    kw = {"budget": budget, "k": k, "max_samples": 16 * k}
    if budget != "fixed":  # prop2diff's first round measures the fail rate: two samples
        kw["first_samples"] = 1 if budget == "uniform" else 2
    cfg = AugmentConfig(
        seeds=[SeedConfig(name="gsm8k", limit=n_seeds), SeedConfig(name="math", limit=n_seeds)],
        answer_aug=TechniqueConfig(**kw, total_samples=(totals or {}).get("answer_aug", 0)),
        fobar=TechniqueConfig(**kw, max_masks=1, total_samples=(totals or {}).get("fobar", 0)),
        rephrase=TechniqueConfig(enabled=False),
        self_verification=TechniqueConfig(enabled=False),
        decontaminate=False,
        batch_size=256,
    )
    teacher = ScriptedTeacher(load_seeds(cfg.seeds)[0], p_range=(0.02, 0.9))
    stats = run_augment(cfg, out, llm=teacher)
    drawn: Counter = Counter()
    rates: dict[str, float] = {}
    for line in (out / "work" / "candidates.jsonl").open():
        r = json.loads(line)
        drawn[r["technique"]] += 1
        rates[r["item_id"]] = teacher.rate(r["query"])
    kept: Counter = Counter()
    for line in (out / "metamathqa.jsonl").open():
        kept[json.loads(line)["id"].rsplit("/s", 1)[0]] += 1
    return stats, drawn, rates, kept


def summary(name: str, stats, drawn, rates, kept) -> dict:
    order = sorted(rates, key=rates.get)
    hard = order[: len(order) // 4]
    return {
        "budget": name,
        "samples": sum(drawn.values()),
        "kept": stats["rows"],
        "coverage": sum(bool(kept[i]) for i in order) / len(order),
        "hard_coverage": sum(bool(kept[i]) for i in hard) / len(hard),
        "hard_kept": sum(kept[i] for i in hard),
        "per_kept": sum(drawn.values()) / max(1, stats["rows"]),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=500, help="GSM8K and MATH seeds each")
    ap.add_argument("--k", type=int, default=4)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        fixed = run("fixed", a.k, a.seeds, None, Path(d) / "fixed")
        totals = dict(fixed[1])  # the samples fixed k spent, per technique
        rows.append(summary("fixed", *fixed))
        for b in ("uniform", "prop2diff"):
            rows.append(summary(b, *run(b, a.k, a.seeds, totals, Path(d) / b)))
        rows.append(summary("uniform, no cap", *run("uniform", a.k, a.seeds, None, Path(d) / "u")))
    n = len(fixed[2])
    print(
        f"{n} questions ({a.seeds} GSM8K + {a.seeds} MATH seeds, AnsAug + FOBAR), solve rates "
        f"0.02-0.9, k={a.k}; uniform/prop2diff capped at fixed's samples per technique"
    )
    print(
        f"{'budget':<16} {'samples':>8} {'kept':>7} {'coverage':>9} {'hardest 25%':>12} "
        f"{'kept in hardest 25%':>20} {'samples/kept':>13}"
    )
    for r in rows:
        print(
            f"{r['budget']:<16} {r['samples']:>8} {r['kept']:>7} {r['coverage']:>9.1%} "
            f"{r['hard_coverage']:>12.1%} {r['hard_kept']:>20} {r['per_kept']:>13.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
