"""Per-question figures of an augmentation run: coverage, cost per kept sample, yield by
difficulty; and their section of DATA_CARD.md.

    items = Items()                          # filled by assemble() row by row, flat arrays
    stats["budget"] = coverage_stats(cfg, items, targets)
    card_section(stats)                      # the data card's section: budgets, coverage, votes, ...

A question is one item the teacher solved (a seed question, a rephrasing, an SV or FOBAR
question). Coverage: the questions (and the seed questions) with no kept sample. Difficulty
buckets: the MATH level for MATH-like seeds; for GSM8K-like seeds (no level), the solve rate
observed on the question's own samples (correct / drawn).
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from typing import Any

from metamath.augment.config import TECHNIQUE_FIELDS, AugmentConfig
from metamath.report import Section, Table, Text, counts, pct

_RATE_BUCKETS = ("solve 0-25%", "solve 25-50%", "solve 50-75%", "solve 75-100%")


class Items:
    """One entry per question, in flat arrays (no object per question)."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.names: list[str] = []
        self.tech = bytearray()
        self.math = bytearray()
        self.level = bytearray()  # 0 = none, 1..5 = MATH "Level n"
        self.seed = array("I")
        self._seeds: dict[str, int] = {}
        self.samples = array("I")
        self.correct = array("I")
        self.kept = array("I")

    def code(self, r: dict) -> int:
        c = self.codes.get(r["item_id"])
        if c is None:
            c = self.codes[r["item_id"]] = len(self.names)
            self.names.append(r["item_id"])
            self.tech.append(TECHNIQUE_FIELDS.index(r["technique"]))
            self.math.append(r["kind"] != "gsm8k")
            lv = str(r.get("level") or "")
            self.level.append(int(lv[-1]) if lv[-1:].isdigit() else 0)
            self.seed.append(self._seeds.setdefault(r["seed_id"], len(self._seeds)))
            for a in (self.samples, self.correct, self.kept):
                a.append(0)
        return c

    def bucket(self, i: int) -> str:
        if self.math[i]:
            return f"MATH level {self.level[i]}" if self.level[i] else "MATH level ?"
        if not self.samples[i]:
            return "not sampled"
        rate = self.correct[i] / self.samples[i]
        return _RATE_BUCKETS[min(3, int(rate * 4))]


def _tech_stats(cfg, t: str, members: list[int], items: Items, targets: dict) -> dict:
    tc = getattr(cfg, t)
    samples = sum(items.samples[i] for i in members)
    kept = sum(items.kept[i] for i in members)
    seeds: dict[int, int] = defaultdict(int)
    for i in members:
        seeds[items.seed[i]] += items.kept[i]
    buckets: dict[str, Counter] = defaultdict(Counter)
    for i in members:
        b = buckets[items.bucket(i)]
        b["questions"] += 1
        b["samples"] += items.samples[i]
        b["correct"] += items.correct[i]
        b["kept"] += items.kept[i]
        b["without_kept"] += not items.kept[i]
    out: dict[str, Any] = {
        "budget": tc.budget,
        "k": tc.k,
        "questions": len(members),
        "questions_without_kept": sum(1 for i in members if not items.kept[i]),
        "seed_questions": len(seeds),
        "seed_questions_without_kept": sum(1 for v in seeds.values() if not v),
        "samples": samples,
        "kept": kept,
        "samples_per_kept": round(samples / kept, 3) if kept else None,
    }
    out["coverage"] = round(1 - out["questions_without_kept"] / len(members), 4)
    if tc.budget != "fixed":
        goal = [targets.get(items.names[i], tc.k) for i in members]
        out.update(
            max_samples=tc.max_samples,
            total_samples=tc.total_samples or None,
            reached_target=sum(items.kept[i] >= g for i, g in zip(members, goal, strict=True)),
            kept_wanted=sum(goal),
        )
    out["by_difficulty"] = {
        k: {**v, "yield": round(v["kept"] / v["samples"], 4) if v["samples"] else 0.0}
        for k, v in sorted(buckets.items())
    }
    return out


def coverage_stats(cfg: AugmentConfig, items: Items, targets: dict[str, int]) -> dict:
    by_tech: dict[str, list[int]] = defaultdict(list)
    for i in range(len(items.names)):
        by_tech[TECHNIQUE_FIELDS[items.tech[i]]].append(i)
    return {t: _tech_stats(cfg, t, m, items, targets) for t, m in by_tech.items()}


def card_section(stats: dict) -> Section | None:
    """The data card's "Budgets and coverage" section (plus votes and paraphrase
    decontamination); None when the run has none of them."""
    budget = stats.get("budget", {})
    blocks: list = []
    if budget:
        rows = []
        for t, v in budget.items():
            reached = f"; {v['reached_target']} reached k" if "reached_target" in v else ""
            rows.append(
                [
                    t,
                    f"{v['budget']}, k={v['k']}",
                    f"{v['questions']}{reached}",
                    f"{v['questions_without_kept']} ({pct(1 - v['coverage'])}); seeds "
                    f"{v['seed_questions_without_kept']} of {v['seed_questions']}",
                    f"{v['samples']} / {v['kept']}",
                    v["samples_per_kept"] or "-",
                ]
            )
        blocks.append(
            Table(
                [
                    "technique",
                    "budget",
                    "questions",
                    "without a kept sample",
                    "samples / kept",
                    "per kept",
                ],
                rows,
                note="Per technique: the sampling budget (fixed k, uniform, prop2diff); the "
                "questions solved (and how many reached k kept samples); those with no kept "
                "sample (coverage), also counted per seed question; samples drawn and kept; "
                "samples drawn per kept sample.",
            )
        )
        diff = [
            [t, b, d["questions"], d["samples"], d["kept"], pct(d["yield"]), d["without_kept"]]
            for t, v in budget.items()
            for b, d in v["by_difficulty"].items()
        ]
        if diff:
            blocks.append(
                Table(
                    [
                        "technique",
                        "difficulty",
                        "questions",
                        "samples",
                        "kept",
                        "yield",
                        "without kept",
                    ],
                    diff,
                    note="Yield (kept / samples) by difficulty: MATH level, or for GSM8K-like "
                    "questions the solve rate observed on their own samples.",
                )
            )
    rounds = stats.get("budget_rounds")
    if rounds:
        done = "complete" if rounds.get("complete") else "stopped on failed requests: re-run"
        blocks.append(Text(f"Sampling rounds: {rounds.get('rounds')} ({done})."))
    src = stats.get("gold_source", {})
    if src.get("vote"):
        blocks.append(
            Text(f"Rows by gold source: {src.get('given', 0)} given, {src['vote']} voted.")
        )
    vote = stats.get("vote")
    if vote:
        blocks.append(
            Text(
                f"Gold by vote: {vote['questions']} seed questions without an answer, "
                f"{vote['agreed']} agreed (at least {vote['min_votes']} of "
                f"{vote['samples_per_question']} samples and {vote['min_agreement']:.0%}), "
                f"rejected {counts(vote['rejected'])}"
                + (f", {vote['pending']} pending (failed requests)" if vote["pending"] else "")
                + "."
            )
        )
    d = stats.get("decontamination", {})
    if d.get("minhash"):
        m = d["minhash"]
        by_rule = d.get("removed_by_rule", {})
        blocks.append(
            Text(
                f"Paraphrase-level decontamination (character {m['shingle']}-gram MinHash, exact "
                f"Jaccard >= {m['threshold']}, the test item's numbers kept): "
                f"{by_rule.get('minhash', 0)} rows removed beside {by_rule.get('ngram', 0)} by "
                f"{d['ngram']}-grams."
            )
        )
    return Section("Budgets and coverage", blocks) if blocks else None
