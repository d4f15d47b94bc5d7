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

from metamath.augment.config import AugmentConfig
from metamath.records import TECHNIQUES, Candidate
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

    def code(self, r: Candidate) -> int:
        """The question's entry (made at its first sample)."""
        c = self.codes.get(r.item_id)
        if c is None:
            c = self.codes[r.item_id] = len(self.names)
            self.names.append(r.item_id)
            self.tech.append(TECHNIQUES.index(r.technique))
            self.math.append(r.kind != "gsm8k")
            lv = str(r.level or "")
            self.level.append(int(lv[-1]) if lv[-1:].isdigit() else 0)
            self.seed.append(self._seeds.setdefault(r.seed_id, len(self._seeds)))
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
        by_tech[TECHNIQUES[items.tech[i]]].append(i)
    return {t: _tech_stats(cfg, t, m, items, targets) for t, m in by_tech.items()}


def card_section(stats: dict) -> Section | None:
    """The data card's "Budgets and coverage" section (plus votes and paraphrase
    decontamination); None when the run has none of them."""
    blocks = [*_budget_tables(stats.get("budget", {})), *_notes(stats)]
    return Section("Budgets and coverage", blocks) if blocks else None


def _budget_tables(budget: dict) -> list[Table]:
    if not budget:
        return []
    rows = []
    for t, v in budget.items():
        reached = f"; {v['reached_target']} reached k" if "reached_target" in v else ""
        without = f"{v['questions_without_kept']} ({pct(1 - v['coverage'])}); seeds "
        rows.append(
            [
                t,
                f"{v['budget']}, k={v['k']}",
                f"{v['questions']}{reached}",
                f"{without}{v['seed_questions_without_kept']} of {v['seed_questions']}",
                f"{v['samples']} / {v['kept']}",
                v["samples_per_kept"] or "-",
            ]
        )
    head = ["technique", "budget", "questions", "without a kept sample", "samples / kept"]
    tables = [
        Table(
            [*head, "per kept"],
            rows,
            note="Per technique: the sampling budget (fixed k, uniform, prop2diff); the "
            "questions solved (and how many reached k kept samples); those with no kept "
            "sample (coverage), also counted per seed question; samples drawn and kept; "
            "samples drawn per kept sample.",
        )
    ]
    diff = [
        [t, b, d["questions"], d["samples"], d["kept"], pct(d["yield"]), d["without_kept"]]
        for t, v in budget.items()
        for b, d in v["by_difficulty"].items()
    ]
    if diff:
        head = ["technique", "difficulty", "questions", "samples", "kept", "yield"]
        note = "Yield (kept / samples) by difficulty: MATH level, or for GSM8K-like "
        note += "questions the solve rate observed on their own samples."
        tables.append(Table([*head, "without kept"], diff, note=note))
    return tables


def _notes(stats: dict) -> list[Text]:
    """Sampling rounds, rows by gold source, the vote, paraphrase decontamination."""
    out = []
    rounds = stats.get("budget_rounds")
    if rounds:
        done = "complete" if rounds.get("complete") else "stopped on failed requests: re-run"
        out.append(Text(f"Sampling rounds: {rounds.get('rounds')} ({done})."))
    src = stats.get("gold_source", {})
    if src.get("vote"):
        out.append(Text(f"Rows by gold source: {src.get('given', 0)} given, {src['vote']} voted."))
    vote = stats.get("vote")
    if vote:
        pending = f", {vote['pending']} pending (failed requests)" if vote["pending"] else ""
        out.append(
            Text(
                f"Gold by vote: {vote['questions']} seed questions without an answer, "
                f"{vote['agreed']} agreed (at least {vote['min_votes']} of "
                f"{vote['samples_per_question']} samples and {vote['min_agreement']:.0%}), "
                f"rejected {counts(vote['rejected'])}{pending}."
            )
        )
    d = stats.get("decontamination", {})
    if d.get("minhash"):
        m, by_rule = d["minhash"], d.get("removed_by_rule", {})
        out.append(
            Text(
                f"Paraphrase-level decontamination (character {m['shingle']}-gram MinHash, exact "
                f"Jaccard >= {m['threshold']}, the test item's numbers kept): "
                f"{by_rule.get('minhash', 0)} rows removed beside {by_rule.get('ngram', 0)} by "
                f"{d['ngram']}-grams."
            )
        )
    return out
