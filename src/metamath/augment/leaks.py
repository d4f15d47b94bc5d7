"""Does a text give a value away? Numeric forms counted in any writing, parsed safely.

    value_forms("It's actually 42/3 = 12 pages", "12")   # 1: the "12" (42/3 is 14)
    leaks(rewrite, "12", source)                         # more forms than the source has?
    restated(masked_question, start, "x", "12")          # "x (a dozen)" still says 12

Leaks are counted, not just searched for: a value that the source question already states (the
"12" of "12 apples and 12 pears" after one 12 is masked) is no leak; one more form of it is.
A form is a number (1,200 / $12.00 / 12%), number words ("twelve", "a dozen", "two thirds"), a
fraction (42/3, \\frac{24}{2}) or an arithmetic expression that evaluates to it (6 * 2, 48 - 36,
"3 times 4"), also inside a longer one ("36/3 + 6"). Expressions are read by a small
recursive-descent parser over exact fractions with bounded length and exponents: model text is
never evaluated as code.
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_TEXT = 4000  # characters scanned per text: rewrites are bounded long before this
MAX_EXPR_TOKENS = 25

# Number words, shared by every check that reads them (backward masking, rephrase's numbers).
UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "dozen": 12}
# "two thirds", "three quarters", "a half": the denominator words
_PARTS = {
    "half": 2,
    "halves": 2,
    "third": 3,
    "thirds": 3,
    "quarter": 4,
    "quarters": 4,
    "fourth": 4,
    "fourths": 4,
    "fifth": 5,
    "fifths": 5,
    "tenth": 10,
    "tenths": 10,
}
_NUMWORD = "|".join([*UNITS, *TENS, *_SCALES, *_PARTS, "a", "an", "and"])
_WORD_RUN = re.compile(rf"\b(?:{_NUMWORD})(?:[\s-]+(?:{_NUMWORD}))*\b", re.IGNORECASE)
_NUM = r"\$?\d[\d,]*(?:\.\d+)?%?|\$?\.\d+%?"
# Arithmetic is found as maximal runs of one character class, then cut into expressions: a
# single class keeps matching linear in the text (nested quantifiers over model text could
# backtrack exponentially).
ARITH_RUN = re.compile(r"[0-9$.,%+\-*/×÷^() x]+")
_SPLIT = re.compile(r",\s+|(?<=[\d%)])\s+(?=[$\d(])")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")


def to_fraction(value: str) -> Fraction | None:
    """'12', '-2.5', '3/4', '1,200', '$12', '50%' -> an exact Fraction; None if not a number."""
    s = value.strip().replace(",", "").replace("$", "")
    s = _FRAC.sub(r"(\1)/(\2)", s)
    pct = s.endswith("%")
    s = s.rstrip("%").strip()
    try:
        if re.fullmatch(r"\(?-?\d+(?:\.\d+)?\)?/\(?\d+(?:\.\d+)?\)?", s):
            a, b = s.replace("(", "").replace(")", "").split("/")
            f = Fraction(a) / Fraction(b)
        else:
            f = Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    return f / 100 if pct else f


class _Parser:
    """Recursive descent over + - * / ^ and parentheses, exact fractions, bounded."""

    def __init__(self, tokens: list[str]):
        self.t, self.i = tokens, 0

    def parse(self) -> Fraction | None:
        try:
            v = self.sum()
        except (ValueError, ZeroDivisionError, OverflowError, IndexError):
            return None
        return v if self.i == len(self.t) else None

    def _peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def sum(self) -> Fraction:
        v = self.prod()
        while self._peek() in ("+", "-"):
            op = self.t[self.i]
            self.i += 1
            v = v + self.prod() if op == "+" else v - self.prod()
        return v

    def prod(self) -> Fraction:
        v = self.power()
        while self._peek() in ("*", "/"):
            op = self.t[self.i]
            self.i += 1
            w = self.power()
            v = v * w if op == "*" else v / w
        return v

    def power(self) -> Fraction:
        v = self.atom()
        if self._peek() == "^":
            self.i += 1
            e = self.atom()
            if e.denominator != 1 or abs(e) > 6 or abs(v) > 10**6:
                raise ValueError("exponent out of bounds")
            v = v ** int(e)
        return v

    def atom(self) -> Fraction:
        tok = self.t[self.i]
        self.i += 1
        if tok == "(":
            v = self.sum()
            if self._peek() != ")":
                raise ValueError("unbalanced")
            self.i += 1
            return v
        if tok == "-":
            return -self.atom()
        f = to_fraction(tok)
        if f is None:
            raise ValueError(tok)
        return f


_WORD_OPS = (
    (re.compile(r"\bmultiplied by\b", re.I), "*"),
    (re.compile(r"\bdivided by\b", re.I), "/"),
    (re.compile(r"\btimes\b", re.I), "*"),
    (re.compile(r"\bplus\b", re.I), "+"),
    (re.compile(r"\bminus\b", re.I), "-"),
    (re.compile(r"\bover\b", re.I), "/"),
)


def evaluate(expr: str) -> Fraction | None:
    """The exact value of a short arithmetic expression, or None (not one, or out of bounds)."""
    s = expr
    for pat, sym in _WORD_OPS:
        s = pat.sub(f" {sym} ", s)
    s = s.replace("×", "*").replace("÷", "/")
    s = re.sub(r"(?<=[\d)%])\s*x\s*(?=[\d($.])", " * ", s)  # "3 x 4": x between numbers only
    # "2/3" written without spaces is one fraction: "$2000 / 2/3" is 2000 divided by two thirds
    tokens = re.findall(
        r"(?<![\d.])\d+/\d+(?![\d.])|\$?\d[\d,]*(?:\.\d+)?%?|\$?\.\d+%?|[-+*/^()]", s
    )
    if not tokens or len(tokens) > MAX_EXPR_TOKENS or "".join(tokens) != re.sub(r"\s+", "", s):
        return None
    return _Parser(tokens).parse()


def _subexpression_values(span: str) -> list[Fraction]:
    """The values of the span and of each run of it between operators ("36/3 + 6" also gives
    36/3 = 12 and 3 + 6 = 9): a leak may hide inside a longer computation."""
    s = span
    for pat, sym in _WORD_OPS:
        s = pat.sub(f" {sym} ", s)
    s = re.sub(r"(?<=[\d)%])\s*x\s*(?=[\d($.])", " * ", s.replace("×", "*").replace("÷", "/"))
    parts = re.split(r"\s*([-+*/^])\s*", s.replace("(", " ").replace(")", " ").strip())
    nums, ops = parts[0::2], parts[1::2]
    if len(nums) < 2 or len(nums) > MAX_EXPR_TOKENS // 2:
        return []
    out = []
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            pairs = zip(ops[i:j], nums[i + 1 : j + 1], strict=True)
            expr = nums[i] + "".join(f" {o} {n}" for o, n in pairs)
            v = evaluate(expr)
            if v is not None:
                out.append(v)
    whole = evaluate(span)
    return out + ([whole] if whole is not None else [])


def words_value(text: str) -> Fraction | None:
    """'twelve' 12, 'twenty-four' 24, 'one hundred and five' 105, 'a dozen' 12, 'two dozen' 24,
    'two thirds' 2/3, 'a half' 1/2, 'one and a half' 3/2; None if the words are no number."""
    words = [w.lower() for w in re.split(r"[\s-]+", text.strip()) if w]
    if not any(w in UNITS or w in TENS or w in _SCALES or w in _PARTS for w in words):
        return None
    total, current = Fraction(0), Fraction(0)
    article = part = False  # after "a"/"an"; after a fraction word ("half a dozen")
    for w in words:
        if w in ("a", "an"):
            article = True
            continue
        if w == "and":
            continue
        if w in UNITS or w in TENS:
            current += UNITS.get(w, 0) + TENS.get(w, 0)
        elif w in _SCALES and part and article:  # "half a dozen": 1/2 * 12
            total, current = total * _SCALES[w], Fraction(0)
        elif w in _SCALES:
            current = (current or 1) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, Fraction(0)
        elif w in _PARTS:  # "two thirds", "a half", "one and a half", "half"
            total += (
                (current + Fraction(1, _PARTS[w])) if article else Fraction(current or 1, _PARTS[w])
            )
            current = Fraction(0)
            part = True
        else:
            return None
        article = False
    return total + current


def expressions(text: str) -> list[str]:
    """The arithmetic spans of a text ("42/3", "12", "3 * 4" from "3 times 4", "$1,200.00")."""
    for pat, sym in _WORD_OPS:
        text = pat.sub(f" {sym} ", text)
    text = re.sub(r"[ \t]+", " ", text)
    out = []
    for m in ARITH_RUN.finditer(text):
        for part in _SPLIT.split(m.group(0)):
            span = part.strip().rstrip(".,").lstrip(",")
            if span.startswith(".") and not span[1:2].isdigit():
                span = span[1:].strip()
            if re.search(r"\d", span):
                out.append(span)
    return out


def forms(text: str) -> list[tuple[str, list[Fraction]]]:
    """Every numeric form in the text: (span, the values it may stand for)."""
    text = _FRAC.sub(r"(\1)/(\2)", text[:MAX_TEXT])
    out: list[tuple[str, list[Fraction]]] = []
    for span in expressions(text):
        vals = [f for f in (to_fraction(n) for n in re.findall(_NUM, span)) if f is not None]
        # "50%" also stands for 50
        vals += [
            f
            for f in (to_fraction(n.rstrip("%")) for n in re.findall(_NUM, span) if "%" in n)
            if f is not None
        ]
        vals += _subexpression_values(span)
        out.append((span, vals))
    for m in _WORD_RUN.finditer(text):
        span = m.group(0).strip()
        if span.lower() in ("a", "an", "and", "a an", "an and"):
            continue
        v = words_value(span)
        if v is not None:
            out.append((span, [v]))
    return out


def value_forms(text: str, value: str) -> int:
    """How many spans of `text` state `value` (in any form: see the module doc)."""
    target = to_fraction(value)
    if target is None:  # a LaTeX answer ("\\sqrt{2}"): count its loose text
        key = loose(value)
        return loose(text).count(key) if key else 0
    return sum(1 for _, vals in forms(text) if target in vals)


def loose(s: str) -> str:
    return re.sub(r"[\s$]|\\[,!;: ]|\\left|\\right", "", s).replace("dfrac", "frac")


def leaks(rewrite: str, value: str, source: str) -> bool:
    """Does the rewrite state `value` more often than the source it was made from?"""
    return value_forms(rewrite, value) > value_forms(source, value)


def restated(masked: str, start: int, var: str, value: str) -> bool:
    """Is the masked value restated right beside the variable ("x (a dozen)", "a dozen (x)",
    "x, that is 12,", "x = 3 * 4"), so that the masked question still gives it away?"""
    after = masked[start + len(var) : start + len(var) + 40]
    before = masked[max(0, start - 40) : start]
    link = re.compile(r"^\s*(?:\(|=|,?\s*(?:i\.e\.|that is|which is|or|namely)\b)")
    if link.match(after) and value_forms(re.split(r"[).;]", after, maxsplit=1)[0], value):
        return True
    m = re.search(r"([^.;(]*)\(\s*$", before)  # "a dozen (x)"
    return bool(m and value_forms(m.group(1)[-30:], value))
