"""Self-consistency of the grader on every real record (GSM8K and MATH, train and test).

For each record: a completion ending "The answer is: {gold}" grades correct (strict), one ending
with \\boxed{gold} grades correct (flexible), and a changed answer (another digit, a dropped
sign, the fraction turned over) grades wrong. The fast test covers the test splits; the slow one
all 21,292 records.
"""

from __future__ import annotations

import re

import pytest

from metamath.answers import grade
from metamath.data import load

SPLITS_FAST = [("gsm8k", "test"), ("math", "test")]
SPLITS_ALL = [("gsm8k", "train"), ("gsm8k", "test"), ("math", "train"), ("math", "test")]


def changed_answers(gold: str) -> list[str]:
    """Near misses of a gold: first digit changed, sign dropped, fraction turned over."""
    out = []
    m = re.search(r"\d", gold)
    if m:
        d = int(m.group(0))
        out.append(gold[: m.start()] + str(7 if d == 9 else d + 1) + gold[m.end() :])
    elif gold.startswith("-"):
        out.append(gold[1:])
    else:
        out.append(gold + "x" if len(gold) > 2 else "-" + gold)
    if gold.startswith("-") and len(gold) > 1:
        out.append(gold[1:])
    f = re.fullmatch(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}", gold)
    if f and f.group(2) != f.group(3):
        out.append(f"{f.group(1)}\\frac{{{f.group(3)}}}{{{f.group(2)}}}")
    return out


def _check(splits) -> tuple[int, list]:
    bad = []
    n = 0
    for name, split in splits:
        task = "gsm8k" if name == "gsm8k" else "math"
        for p in load(name, split):
            n += 1
            g = p.gold
            s = grade(
                f"Let's think step by step.\nSo we get it.\nThe answer is: {g}", g, task, "strict"
            )
            if not s.correct:
                bad.append(("strict", p.id, g, s))
            b = grade(
                f"Let's think step by step. So the result is $\\boxed{{{g}}}$.", g, task, "flexible"
            )
            if not b.correct:
                bad.append(("boxed", p.id, g, b))
            for w in changed_answers(g):
                c = grade(f"Let's think step by step.\nThe answer is: {w}", g, task, "strict")
                if c.correct:
                    bad.append(("changed", p.id, g, w, c))
    return n, bad


def test_changed_answers():
    assert changed_answers(r"-\frac{3}{4}") == [r"-\frac{4}{4}", r"\frac{3}{4}", r"-\frac{4}{3}"]
    assert changed_answers("19") == ["29"] and changed_answers("9") == ["7"]


def test_self_consistency_test_splits(data_dir):
    n, bad = _check(SPLITS_FAST)
    assert n == 1319 + 5000
    assert not bad, bad[:10]


@pytest.mark.slow
def test_self_consistency_all_records(data_dir):
    n, bad = _check(SPLITS_ALL)
    assert n == 21_292
    assert not bad, bad[:10]
