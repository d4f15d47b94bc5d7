"""Answer equivalence: a fast path for the common cases, math-verify for the rest.

    check("0.75", "\\frac{3}{4}")                -> "correct"
    check("(1,2)", "(2,1)")                      -> "mismatch"
    is_equiv("x = 5", "5")                       -> True

Order: canonical strings equal -> exact numbers (Fractions: 1,234,567 / 0.5 / \\frac12 / 50\\% /
2.5e3) -> structure (tuples and intervals in order, sets and bare lists in any order, matrices)
element by element -> a safe numeric evaluation of both sides (expr.py) -> math-verify in a
worker subprocess under a timeout (symbolic.py). Each step either settles the pair or passes it
on, so math-verify only sees what the cheap steps cannot decide.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from metamath.answers.expr import numeric_verdict
from metamath.answers.normalize import canon, to_number
from metamath.answers.symbolic import symbolic_equiv

VERDICTS = ("correct", "mismatch", "timeout", "too_long", "error")
_MATRIX = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$")


def _numbers_equal(p: Fraction, g: Fraction, percent: bool) -> bool:
    if p == g:
        return True
    # A rounded decimal of a repeating value (0.333333 for 1/3): equal at 6 decimals, as
    # math-verify's float_rounding=6, and also close in relative terms (1e-8 is not 2e-8).
    diff = abs(p - g)
    if diff <= Fraction(5, 10**7) and diff <= Fraction(1, 10**5) * max(abs(p), abs(g)):
        return True
    # 50\% is 50 and 0.5 (math-verify accepts both readings).
    return percent and (p * 100 == g or p == g * 100)


def _split_top(s: str, sep: str = ",") -> list[str]:
    """Split on sep outside any brackets or braces."""
    out, depth, cur = [], 0, []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and s.startswith(("\\{", "\\}"), i):
            depth += 1 if s[i + 1] == "{" else -1
            cur.append(s[i : i + 2])
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if s.startswith(sep, i) and depth == 0:
            out.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _structure(s: str) -> tuple[str, list[str]] | None:
    """(kind, elements) for sets, tuples/intervals, unions, matrices and bare lists; else None."""
    m = _MATRIX.match(s)
    if m:
        rows = [r for r in m.group(2).split("\\\\") if r.strip()]
        cells = [_split_top(r, "&") for r in rows]
        return f"matrix{[len(r) for r in cells]}", [c for r in cells for c in r]
    if "\\cup" in s:
        parts = _split_top(s, "\\cup")
        if len(parts) > 1:
            return "union", parts
    if s.startswith("\\{") and s.endswith("\\}"):
        return "set", _split_top(s[2:-2])
    if len(s) >= 2 and s[0] in "([" and s[-1] in ")]" and _split_top(s[1:-1]) != [s[1:-1]]:
        if len(_split_top(s)) == 1:  # one bracketed group, not "(1,2),(3,4)"
            return f"seq{s[0]}{s[-1]}", _split_top(s[1:-1])
    parts = _split_top(s)
    if len(parts) > 1:
        return "list", parts
    return None


def _scalar(p: str, g: str, percent: bool) -> bool | None:
    """Decide two canonical scalars without sympy, or None when undecided."""
    if p == g:
        return True
    np_, ng = to_number(p), to_number(g)
    if np_ is not None and ng is not None:
        return _numbers_equal(np_, ng, percent)
    return numeric_verdict(p, g)


def _unordered(ps: list[str], gs: list[str], percent: bool) -> bool | None:
    left = list(gs)
    undecided = False
    for p in ps:
        for k, g in enumerate(left):
            v = _scalar(p, g, percent)
            if v:
                del left[k]
                break
            undecided |= v is None
        else:
            return None if undecided else False
    return True


def fast_verdict(pred: str, gold: str) -> bool | None:
    """The fast path alone: True/False when settled without sympy, None otherwise."""
    percent = "%" in pred or "%" in gold
    p, g = canon(pred), canon(gold)
    if not p:
        return False
    v = _scalar(p, g, percent)
    if v is not None:
        return v
    sp, sg = _structure(p), _structure(g)
    if sp is None and sg is None:
        return None
    if sp is None or sg is None or sp[0] != sg[0] or len(sp[1]) != len(sg[1]):
        # different shapes: "(1,2)" vs "[1,2)" or a list vs a single value; settled when both
        # sides are plain shapes (math-verify agrees), left to it when one side is a scalar
        return False if sp is not None and sg is not None else None
    if sp[0] in ("set", "list", "union"):
        return _unordered(sp[1], sg[1], percent)
    verdicts = [_scalar(a, b, percent) for a, b in zip(sp[1], sg[1], strict=True)]
    if any(v is False for v in verdicts):
        return False
    return True if all(verdicts) else None


MAX_PRED_CHARS = 10_000  # an "answer" longer than this is a runaway generation, not an answer


class _Uncached(Exception):
    """Carries a verdict that must not be cached (a timeout may pass on a quieter machine)."""


@lru_cache(maxsize=65536)
def _check_cached(pred: str, gold: str, timeout: float) -> str:
    # Filtering compares k samples per question against one gold: repeats are common.
    v = fast_verdict(pred, gold)
    if v is not None:
        return "correct" if v else "mismatch"
    got = symbolic_equiv(pred, gold, timeout)
    if got in ("timeout", "error"):
        raise _Uncached(got)
    return got


def check(pred: str | None, gold: str, timeout: float = 2.0) -> str:
    """Verdict on an extracted answer: one of VERDICTS. Never raises on model text."""
    if pred is None or not pred.strip():
        return "mismatch"
    if len(pred) > MAX_PRED_CHARS:
        return "too_long"
    try:
        return _check_cached(pred, gold, float(timeout))
    except _Uncached as e:
        return str(e)
    except RecursionError:
        return "too_long"


def is_equiv(pred: str | None, gold: str, timeout: float = 2.0) -> bool:
    """True when pred and gold are the same answer (numerically or symbolically)."""
    return check(pred, gold, timeout) == "correct"
