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
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from metamath.answers.expr import TRIG, equation_verdict, evaluable, exact_value, numeric_verdict
from metamath.answers.normalize import UNIT_LETTER, canon, to_number
from metamath.answers.numeric import clean_number
from metamath.answers.relations import as_intervals, has_relation, oriented
from metamath.answers.symbolic import symbolic_equiv

_MATRIX = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$")


def _terminates(x: Fraction) -> bool:
    d = x.denominator
    for q in (2, 5):
        while d % q == 0:
            d //= q
    return d == 1


def _rounded(dec: str, val: Fraction, exact: Fraction) -> bool:
    """dec (a decimal literal with value val) is `exact` correctly rounded to 3+ places, and
    `exact` has no finite decimal form (0.333 for 1/3; never 0.333 for 333/1000 or 1/4)."""
    k = len(dec.split(".", 1)[1]) if "." in dec else 0
    return k >= 3 and not _terminates(exact) and abs(val - exact) * 2 * 10**k <= 1


def _float_noise(p: Fraction, g: Fraction, ps: str, gs: str) -> bool:
    """10.333333333333332 vs 10.333333333333334: two printings of one float (a gold computed
    in floating point); both need 12+ significant digits, and they agree to 1e-12."""
    digits = [len(re.sub(r"\D", "", x).lstrip("0")) for x in (ps, gs)]
    return min(digits) >= 12 and abs(p - g) <= Fraction(1, 10**12) * max(1, abs(g))


def _numbers_equal(p: Fraction, g: Fraction, ps: str, gs: str, percent: bool) -> bool:
    if p == g or _float_noise(p, g, ps, gs):
        return True
    if _rounded(ps, p, g) or _rounded(gs, g, p):
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
    if s.count("\\pm") == 1 and "," not in s:
        # "1 \\pm \\sqrt{19}" is the two roots "1+\\sqrt{19}, 1-\\sqrt{19}"
        a, b = _split_top(s, "\\pm") if len(_split_top(s, "\\pm")) == 2 else ("", "")
        if a and b:
            return "list", [f"{a}+{b}", f"{a}-({b})"]
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


@dataclass(frozen=True)
class _Ctx:
    percent: bool  # a "%" on either side: 50% may mean 50 or 0.5
    degrees: bool  # a degree sign on either side: canon dropped it, so trig is not radians
    text: bool  # \\text{}/\\mbox{} on either side: letters are words, not variables


_INF = ("\\infty", "+\\infty", "-\\infty")
_BASE = re.compile(r"^(-?[0-9A-Za-z]+)_\{?(\d+)\}?$")  # 861_{12}: a numeral in base 12
_RATIO = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")
_WORDS = re.compile(r"^[A-Za-z][A-Za-z,'.:-]*$")


def _base_value(digits: str, base: int) -> int | None:
    """The value of a numeral written in `base` (2-36), or None when a digit does not fit."""
    sign = -1 if digits.startswith("-") else 1
    try:
        return sign * int(digits.lstrip("-"), base) if 2 <= base <= 36 else None
    except ValueError:
        return None


def _special(p: str, g: str, ctx: _Ctx) -> bool | None:
    """Infinity, numerals in a base, ratios and word answers: settled by their own rules."""
    if p in _INF or g in _INF:
        other = g if p in _INF else p
        if other in _INF or to_number(other) is not None:
            return p.lstrip("+") == g.lstrip("+")
        return None
    mp, mg = _BASE.match(p), _BASE.match(g)
    if mp and mg:

        def digits(m: re.Match) -> str:
            sign, d = ("-", m.group(1)[1:]) if m.group(1).startswith("-") else ("", m.group(1))
            return sign + d.lstrip("0").upper()

        return mp.group(2) == mg.group(2) and digits(mp) == digits(mg)
    for a, b in ((mp, g), (mg, p)):  # 255_{10} is 255, 1010_2 is 10; 12_2 is no numeral
        if a and to_number(b) is not None:
            return _base_value(a.group(1), int(a.group(2))) == to_number(b)
    mp, mg = _RATIO.match(p), _RATIO.match(g)
    if mp and mg:
        a, b = (Fraction(x) for x in mp.groups())
        c, d = (Fraction(x) for x in mg.groups())
        if b == 0 or d == 0:  # clock times such as 05:00 are pairs, not ratios
            return (a, b) == (c, d)
        return a * d == b * c
    if _WORDS.match(p) and _WORDS.match(g) and (ctx.text or re.search("[A-Za-z]{4}", p + g)):
        # word answers ("Saturday", "A, B"): case-insensitive, lists in any order
        def words(x: str) -> list[str]:
            return sorted(w.strip(".").lower() for w in x.split(","))

        return words(p) == words(g)
    return None


def _decimal_comma(s: str) -> Fraction | None:
    """2,74 or 1000,99 read with a decimal comma (numeric.py's rule: a comma followed by other
    than three digits); only asked when the other side is one number, so "1,2" stays a list."""
    m = re.fullmatch(r"(-?)(\d+,\d+)", s)
    got = (
        clean_number(m.group(2))
        if m and not re.fullmatch(r"\d{1,3}(,\d{3})+", m.group(2))
        else None
    )
    return None if got is None else Fraction(m.group(1) + got)


def malformed(s: str) -> bool:
    """Cut-off or broken math ("(2000", "185)", "\\frac", "3 \\left( \\frac", "^2"):
    unbalanced brackets, or an operator or command with nothing to act on at either end."""
    depth = 0
    for c in s:
        depth += (c in "([{") - (c in ")]}")
        if depth < 0:
            return True
    if depth:
        return True
    return bool(re.search(r"(?:[-+*/^_=]|\\[dt]?frac|\\sqrt)$|^[*/^_=]", s))


def _scalar(p: str, g: str, ctx: _Ctx) -> bool | None:
    """Decide two canonical scalars without sympy, or None when undecided."""
    if p == g:
        return True
    np_, ng = to_number(p), to_number(g)
    if (np_ is None and ng is not None and malformed(p)) or (
        ng is None and np_ is not None and malformed(g)
    ):
        return False  # a broken expression is never the number on the other side
    if (np_ is None) != (ng is None):  # "2,74" against a single number: a decimal comma
        np_, ng = (
            np_ if np_ is not None else _decimal_comma(p),
            ng if ng is not None else _decimal_comma(g),
        )
    if np_ is not None and ng is not None:
        return _numbers_equal(np_, ng, p, g, ctx.percent)
    v = _special(p, g, ctx)
    if v is not None:
        return v
    if (np_ is not None or "^" in p or "!" in p) and (ng is not None or "^" in g or "!" in g):
        ep = np_ if np_ is not None else exact_value(p)
        eg = ng if ng is not None else exact_value(g)
        if ep is not None and eg is not None:
            return _numbers_equal(ep, eg, p, g, ctx.percent)
    if ctx.degrees and any(f in p or f in g for f in TRIG):
        return None  # \\cos 6^\\circ lost its degree sign in canon: math-verify reads it right
    return numeric_verdict(p, g)


def _unordered(ps: list[str], gs: list[str], ctx: _Ctx, depth: int) -> bool | None:
    left = list(gs)
    undecided = False
    for p in ps:
        for k, g in enumerate(left):
            v = _compare(p, g, ctx, depth + 1)
            if v:
                del left[k]
                break
            undecided |= v is None
        else:
            return None if undecided else False
    return True


def _compare(p: str, g: str, ctx: _Ctx, depth: int = 0) -> bool | None:
    if depth > 4:
        return None
    v = _scalar(p, g, ctx)
    if v is not None:
        return v
    if "=" in p or "=" in g:
        return _relation(p, g, ctx)
    sp, sg = _structure(p), _structure(g)
    if sp is None and sg is None:
        return None
    unordered = ("set", "list")  # "\\{-2,-1,1,2\\}" and "-2,-1,1,2" are one answer
    if sp is not None and sg is not None and sp[0] in unordered and sg[0] in unordered:
        sp = ("set", sp[1])
        sg = ("set", sg[1])
    if sp is None or sg is None or sp[0] != sg[0] or len(sp[1]) != len(sg[1]):
        # different shapes: "(1,2)" vs "[1,2)" or a list vs a single value; settled when both
        # sides are plain shapes (math-verify agrees), left to it when one side is a scalar
        if sp is not None and sg is not None:
            return False
        # a matrix, tuple, interval or set is never a single number
        shaped, other = (sp, g) if sp is not None else (sg, p)
        if shaped[0] != "list" and (to_number(other) is not None or evaluable(other)):
            return False
        return None
    if sp[0] in ("set", "list", "union"):
        return _unordered(sp[1], sg[1], ctx, depth)
    verdicts = [_compare(a, b, ctx, depth + 1) for a, b in zip(sp[1], sg[1], strict=True)]
    if any(v is False for v in verdicts):
        return False
    return True if all(verdicts) else None


def fast_verdict(pred: str, gold: str) -> bool | None:
    """The fast path alone: True/False when settled without sympy, None otherwise."""
    raw = pred + gold
    ctx = _Ctx(
        percent="%" in raw,
        degrees="circ" in raw or "°" in raw,
        text="\\text" in raw or "\\mbox" in raw,
    )
    if has_relation(pred) or has_relation(gold):
        # "x \\geq 5", "5 \\leq x" and "[5, \\infty)" are one answer (relations.py)
        pred = as_intervals(pred) or oriented(pred)
        gold = as_intervals(gold) or oriented(gold)
    p, g = canon(pred), canon(gold)
    if not p:
        return False
    for raw, other in ((pred, g), (gold, p)):
        m = UNIT_LETTER.match(raw)
        if m and to_number(other) is not None:  # "24 m" against 24: a unit symbol
            p, g = (canon(m.group(1)), g) if raw is pred else (p, canon(m.group(1)))
    return _compare(p, g, ctx)


MAX_PRED_CHARS = 10_000  # an "answer" longer than this is a runaway generation, not an answer


class _Uncached(Exception):
    """Carries a verdict that must not be cached (a timeout may pass on a quieter machine)."""


def _relation(p: str, g: str, ctx: _Ctx) -> bool | None:
    """Answers with '=' left after canon (the simple 'x =' prefix is already gone)."""
    if p.count("=") == 1 and g.count("=") == 1 and not re.search(r"[<>]|\\[lg]e", p + g):
        sides = [_scalar(a, b, ctx) for a, b in zip(p.split("="), g.split("="), strict=True)]
        if all(sides):
            return True
        if all(to_number(x) is not None for x in p.split("=") + g.split("=")):
            return False  # "0.56 = 56%" vs "1.56 = 56%": numbers on both sides, one differs
        return equation_verdict(p, g)
    if "=" in g and "=" not in p and g.count("=") == 1:
        # a gold such as "0.56 = 56\%" accepts either side when both sides are numbers
        sides = g.split("=")
        if all(to_number(x) is not None for x in sides):
            return any(_scalar(p, x, ctx) for x in sides)
    return None


@lru_cache(maxsize=65536)
def _check_cached(pred: str, gold: str, timeout: float) -> str:
    # Filtering compares k samples per question against one gold: repeats are common.
    try:
        v = fast_verdict(pred, gold)
    except RecursionError:
        raise
    except Exception:  # a fast-path bug on odd text must not stop a million-sample run:
        v = None  # math-verify (guarded, timed) decides instead
    if v is not None:
        return "correct" if v else "mismatch"
    got = symbolic_equiv(pred, gold, timeout)
    if got in ("timeout", "error"):
        raise _Uncached(got)
    return got


def check(pred: str | None, gold: str, timeout: float = 2.0) -> str:
    """Verdict on an extracted answer: one of "correct", "mismatch", "timeout",
    "too_long", "error". Never raises on model text."""
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
