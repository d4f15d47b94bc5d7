"""Disagreement audit: our grade next to math-verify's on the same (completion, gold).

    row = audit(completion, gold, task)
    row["agree"], row["ours_correct"], row["math_verify_correct"], row["math_verify_extracted"]

math-verify is run exactly as its README shows, `verify(parse(gold), parse(completion))`, and
once more with the gold wrapped in `$...$` (a bare LaTeX gold such as `\\frac{1}{2}` is not
math to its default parser). The audit's verdict for math-verify is the wrapped one (the
fairer reading: on GSM8K and MATH reference solutions it agrees with the labels 0.999 against
0.916 for the plain call; README, Benchmarks); the plain one is recorded beside it. It runs in
the grader's math-verify worker process under `timeout` (symbolic.py), so a runaway parse is
killed, never waited for. A user reads the rows where `agree` is false before trusting a score.
"""

from __future__ import annotations

from typing import Any

from metamath.answers.symbolic import POOL

MAX_AUDIT_CHARS = 200_000  # math-verify scans the whole completion: a longer one is cut to its tail


def math_verify(completion: str, gold: str, timeout: float = 10.0) -> dict[str, Any]:
    """math-verify's verdicts and extractions: {"correct", "correct_plain", "extracted",
    "gold_extracted", "reason"} (reason "ok", "timeout" or "error")."""
    text = completion[-MAX_AUDIT_CHARS:]
    got = POOL.ask({"audit": text, "g": gold}, timeout)
    if isinstance(got, str) or got.get("r") != "ok":
        reason = got if isinstance(got, str) else "error"
        return {
            "correct": False,
            "correct_plain": False,
            "extracted": None,
            "gold_extracted": None,
            "reason": reason,
        }
    return {
        "correct": bool(got["wrapped"]),
        "correct_plain": bool(got["plain"]),
        "extracted": got.get("pred"),
        "gold_extracted": got.get("gold_wrapped"),
        "reason": "ok",
    }


def audit(
    completion: str | None,
    gold: str,
    task: str,
    mode: str = "flexible",
    timeout: float = 10.0,
    ours: Any = None,
) -> dict[str, Any]:
    """One row of the audit: ours (a Grade, computed unless given) against math-verify."""
    from metamath.answers import grade

    g = ours if ours is not None else grade(completion, gold, task, mode)
    mv = math_verify(completion or "", str(gold), timeout)
    return {
        "ours_correct": bool(g.correct),
        "ours_extracted": g.extracted,
        "ours_reason": g.reason,
        "math_verify_correct": mv["correct"],
        "math_verify_correct_plain": mv["correct_plain"],
        "math_verify_extracted": mv["extracted"],
        "math_verify_gold": mv["gold_extracted"],
        "math_verify_reason": mv["reason"],
        "agree": bool(g.correct) == mv["correct"],
    }
