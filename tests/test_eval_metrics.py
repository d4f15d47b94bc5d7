"""Tables of known values for the statistics in metamath.evaluate.metrics and compare."""

from __future__ import annotations

import itertools
import math

import pytest

from metamath.evaluate.compare import mcnemar_exact, paired_bootstrap
from metamath.evaluate.metrics import (
    bootstrap_mean_ci,
    majority_correct,
    pass_at_k,
    task_metrics,
    wilson,
)


@pytest.mark.parametrize(
    "c,n,lo,hi",
    [
        # Reference values: scipy.stats.binomtest(c, n).proportion_ci(method="wilson").
        (81, 263, 0.2553, 0.3662),
        (0, 20, 0.0, 0.1611),
        (20, 20, 0.8389, 1.0),
        (10, 20, 0.2993, 0.7007),
    ],
)
def test_wilson_interval(c, n, lo, hi):
    got = wilson(c, n)
    assert got[0] == pytest.approx(lo, abs=1e-4) and got[1] == pytest.approx(hi, abs=1e-4)


@pytest.mark.parametrize(
    "n,c,k", [(10, 3, 1), (10, 3, 2), (10, 3, 8), (5, 0, 2), (5, 5, 3), (16, 1, 4), (100, 37, 10)]
)
def test_pass_at_k_matches_the_combinatorial_definition(n, c, k):
    # pass@k = P(at least one of k draws without replacement is correct) = 1 - C(n-c,k)/C(n,k)
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))


def test_pass_at_k_brute_force_small_case():
    # all 2-subsets of 5 samples, 2 correct: fraction of subsets with a correct sample
    correct = [1, 0, 1, 0, 0]
    subsets = list(itertools.combinations(correct, 2))
    assert pass_at_k(5, 2, 2) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))


def _s(ans, ok):
    g = {"extracted": ans, "correct": ok, "reason": "correct" if ok else "mismatch"}
    return {"strict": g, "flexible": g}


def test_majority_vote_with_equivalence_and_ties():
    votes = [_s("0.5", True), _s("3", False), _s("\\frac{1}{2}", True), _s("3", False)]
    assert majority_correct(votes, "strict") is False  # "3" x2 beats two distinct spellings
    same = {frozenset({"0.5", "\\frac{1}{2}"})}
    eq = lambda a, b: a == b or frozenset({a, b}) in same  # noqa: E731
    votes.append(_s("0.5", True))
    assert majority_correct(votes, "strict", eq) is True  # 3 votes for one half
    assert majority_correct([_s("4", True), _s("5", False)], "strict") is True  # first wins ties
    assert majority_correct([_s(None, False)], "strict") is False


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    vals = [0.0, 0.25, 0.5, 1.0] * 25
    lo, hi = bootstrap_mean_ci(vals)
    assert lo < sum(vals) / len(vals) < hi
    assert bootstrap_mean_ci(vals) == (lo, hi)


@pytest.mark.parametrize(
    "b,c,p",
    [
        (10, 2, 158 / 4096),  # 2 * (C(12,0)+C(12,1)+C(12,2)) / 2^12
        (5, 5, 1.0),
        (0, 0, 1.0),
        (0, 6, 2 / 64),
    ],
)
def test_mcnemar_exact(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p)


def test_mcnemar_exact_large_counts_do_not_overflow():
    # scipy.stats.binomtest(600, 1300).pvalue = 0.0060157938610449395
    assert mcnemar_exact(700, 600) == pytest.approx(0.0060157938610449395, rel=1e-9)


def test_paired_bootstrap_detects_a_shift_and_not_noise():
    a = [0.0, 0.5] * 50
    p, (lo, hi) = paired_bootstrap(a, [x + 0.25 for x in a])
    assert p < 0.01 and lo == pytest.approx(0.25) and hi == pytest.approx(0.25)
    p2, _ = paired_bootstrap(a, a[::-1])
    assert p2 > 0.5


def test_task_metrics_rates():
    rows = []
    for i in range(10):
        g = {
            "correct": i < 3,
            "extracted": None if i >= 8 else str(i),
            "reason": "correct" if i < 3 else "no_answer" if i >= 8 else "mismatch",
        }
        rows.append(
            {
                "problem_id": f"p{i}",
                "sample": 0,
                "strict": g,
                "flexible": g,
                "finish_reason": "length" if i == 9 else "stop",
                "error": None,
            }
        )
    m = task_metrics(rows)
    assert m["strict"]["accuracy"] == 0.3 and m["strict"]["no_answer_rate"] == 0.2
    assert m["truncated_rate"] == 0.1 and m["n_problems"] == 10 and "by_subject" not in m
    assert "pass@k" not in m["strict"]
