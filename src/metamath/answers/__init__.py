"""The one grader: the same code filters augmented samples and scores evaluations.

    from metamath.answers import extract, is_equiv, grade, grade_both
    extract("... The answer is: 18", task="gsm8k")          -> "18"
    is_equiv("0.75", "\\frac{3}{4}")                         -> True
    grade("... \\boxed{18}", "18", task="gsm8k")             -> Grade(correct=True, reason="correct", mode="flexible")
    strict, flexible = grade_both(completion, gold, task="math")

Grade.reason: "correct", "mismatch" (an answer, not equal), "no_answer" (nothing extracted),
"timeout" (the symbolic check overran), "too_long" (an answer too large or deeply nested to
check safely), "error" (bad gold or a math-verify failure). Strict extraction reads only
explicit answer markers; flexible adds the last \\boxed{} and the last math expression
(extract.py). A gold given as a whole solution is graded against its own final answer.
This package imports no torch and no network client; sympy loads only in a worker subprocess.
"""

from __future__ import annotations

from metamath.answers.boxed import all_boxed, last_boxed
from metamath.answers.equiv import check, fast_verdict, is_equiv
from metamath.answers.extract import (
    GRADERS,
    MODES,
    NUMERIC_GRADERS,
    Grader,
    Mode,
    extract,
    extract_with_source,
)
from metamath.answers.markers import MARKERS
from metamath.answers.normalize import canon as normalize
from metamath.answers.reading import numeric_answer
from metamath.records import Grade

__all__ = [
    "extract",
    "is_equiv",
    "grade",
    "grade_both",
    "normalize",
    "check",
    "fast_verdict",
    "last_boxed",
    "all_boxed",
    "gold_from_solution",
    "GRADERS",
    "MODES",
    "Grader",
    "Mode",
]


GOLD_MAX = 200  # a gold longer than this (or with a box or a marker) is a whole solution


def gold_from_solution(solution: str, task: str) -> str | None:
    """The final answer a reference solution states ('#### X', 'The answer is X', the last
    \\boxed{}), by the same extraction as completions; None when it states none."""
    if task not in GRADERS:
        raise ValueError(f"task={task!r}: use one of {GRADERS}")
    got, _ = extract_with_source(solution, "flexible", task, fallback=False)
    return got


def gold_answer(gold: str, task: str) -> str | None:
    """The gold as an answer: itself, or its own final answer when it is a whole solution.
    Numeric golds are read like numeric answers ("1,000" and "2,74" alike)."""
    g = gold.strip()
    if "\\boxed" in g or "\\fbox" in g or len(g) > GOLD_MAX or MARKERS.search(g):
        return gold_from_solution(g, task)
    if task in NUMERIC_GRADERS:
        return numeric_answer(g) or g
    return g


def grade(
    completion: str | None,
    gold: str,
    task: str,
    mode: str = "flexible",
    timeout: float = 2.0,
    fallback: bool = True,
) -> Grade:
    """Grade one completion against a gold final answer.

    mode "strict" uses answer markers only; "flexible" also takes a later \\boxed{} and, with
    `fallback`, guesses the last expression of a reply that marks no answer (False: such a
    reply has no answer; augment's filter never keeps a guess). Grade.mode says which rule
    produced `extracted`.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}")
    if task not in GRADERS:
        raise ValueError(f"task={task!r}: use one of {GRADERS}")
    if gold is None or not str(gold).strip():
        return Grade(False, None, "error", gold=gold, mode=mode)
    gold = str(gold)
    answer = gold_answer(gold, task)
    if answer is None:  # a solution that states no final answer
        return Grade(False, None, "error", gold=gold, mode=mode)
    if not completion:
        return Grade(False, None, "no_answer", gold=gold, mode=mode)
    extracted, source = extract_with_source(completion, mode, task, fallback=fallback)
    if extracted is None:
        return Grade(False, None, "no_answer", gold=gold, mode=mode)
    verdict = check(extracted, answer, timeout)
    return Grade(
        verdict == "correct",
        extracted,
        verdict,
        gold=gold,
        mode=source if source != "none" else mode,
    )


def grade_both(
    completion: str | None, gold: str, task: str, timeout: float = 2.0
) -> tuple[Grade, Grade]:
    """(strict Grade, flexible Grade); the flexible one reuses the strict work when it can."""
    strict = grade(completion, gold, task, "strict", timeout)
    if strict.extracted is not None:  # flexible tries the strict markers first: same answer
        return strict, strict
    return strict, grade(completion, gold, task, "flexible", timeout)
