"""The one grader: the same code filters augmented samples and scores evaluations.

    from metamath.answers import extract, is_equiv, grade, grade_both
    extract("... The answer is: 18", task="gsm8k")          -> "18"
    is_equiv("0.75", "\\frac{3}{4}")                         -> True
    grade("... \\boxed{18}", "18", task="gsm8k")             -> Grade(correct=True, reason="correct", mode="flexible")
    strict, flexible = grade_both(completion, gold, task="math")

Grade.reason: "correct", "mismatch" (an answer, not equal), "no_answer" (nothing extracted),
"timeout" (the symbolic check overran), "too_long" (an answer too large or deeply nested to
check safely), "error" (bad gold or a math-verify failure). Strict extraction reads only
explicit answer markers; flexible adds the last \\boxed{} and the last number (extract.py).
This package imports no torch and no network client; sympy loads only in a worker subprocess.
"""

from __future__ import annotations

from metamath.answers.boxed import all_boxed, last_boxed
from metamath.answers.equiv import check, fast_verdict, is_equiv
from metamath.answers.extract import MODES, TASKS, extract, extract_with_source
from metamath.answers.normalize import canon as normalize
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
    "TASKS",
    "MODES",
]


def gold_from_solution(solution: str, task: str) -> str | None:
    """The gold answer inside a reference solution: after '####' (GSM8K), else the last box."""
    if task in ("gsm8k", "gsm8k_backward") and "####" in solution:
        got = solution.rsplit("####", 1)[1].strip().replace(",", "")
        return got or None
    return last_boxed(solution)


def grade(
    completion: str | None, gold: str, task: str, mode: str = "flexible", timeout: float = 2.0
) -> Grade:
    """Grade one completion against a gold final answer.

    mode "strict" uses answer markers only; "flexible" also falls back to \\boxed{} and the
    last number. Grade.mode says which rule produced `extracted`.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}")
    if task not in TASKS:
        raise ValueError(f"task={task!r}: use one of {TASKS}")
    if gold is None or not str(gold).strip():
        return Grade(False, None, "error", gold=gold, mode=mode)
    gold = str(gold)
    if not completion:
        return Grade(False, None, "no_answer", gold=gold, mode=mode)
    extracted, source = extract_with_source(completion, mode, task)
    if extracted is None:
        return Grade(False, None, "no_answer", gold=gold, mode=mode)
    verdict = check(extracted, gold, timeout)
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
