"""Numeric answers (GSM8K-style tasks): the whole number or expression a model wrote, never its
first digits.

    numeric_answer("2 * 1.5 = 3.")            -> "3"        (the result of a chain)
    numeric_answer("10 * 5")                  -> "50"       (plain arithmetic, evaluated exactly)
    numeric_answer("5 apples over 2 days")    -> "5"        (a word after a space ends it)
    numeric_answer("10^{10^{10^{10}}}")       -> "10^{10^{10^{10}}}" (too big: kept, never 10)
    numeric_answer("u+14")                    -> "u+14"     (a variable: kept, never 14)
    last_numeric("We find 12, then 3 more, 15 in all.") -> "15"

Hand-written because no library reads "the number a sentence states" the way graders need; the
arithmetic goes to expr.exact_value, a bounded recursive-descent parser over Fractions (no eval,
no sympy, powers capped). An expression it refuses is returned as written, so equivalence sees
the model's real answer and rejects it, instead of a truncated number that happens to match.

Number spelling rules (documented in the README):
  1,234,567 and 1 234 567 (groups of exactly three digits) are thousands separators;
  a comma followed by other than three digits is a decimal comma (2,74 and 1000,99) when no other
  comma sits between digits in the same answer; 1.234,56 is the European 1234.56;
  10e5 and 1.5 \\times 10^3 are scientific notation; a lone \\frac{a}{b} stays LaTeX.
"""

from __future__ import annotations

import re
from fractions import Fraction

from metamath.answers.boxed import last_boxed
from metamath.answers.expr import exact_value

_SPACE_GROUP = "[ \u00a0\u202f\u2009]"
_NUM = (
    r"\d{1,3}(?:\.\d{3})+,\d+(?![\d.,])"  # 1.234,56 (European)
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|,\d)"  # 1,234,567.5
    rf"|\d{{1,3}}(?:{_SPACE_GROUP}\d{{3}})+(?![\d.,]\d)"  # 1 234 567
    r"|\d+(?:,\d+(?![\d,]\d)|\.\d+)?(?:[eE][-+]?\d+(?!\d|\.\d))?"  # 12, 2,74, 12.5, 10e5
    r"|\.\d+"
)
_TOKEN = re.compile(
    rf"(?P<num>{_NUM})"
    r"|(?P<frac>\\[dtc]?frac(?![A-Za-z]))"
    r"|(?P<op>[-+*/^])"
    r"|(?P<lp>[({\[])|(?P<rp>[)}\]])"
    r"|(?P<eq>=)"
    r"|(?P<word>[^\W\d_][\w']*)"
    r"|(?P<cmd>\\[A-Za-z]+)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
# Spellings mapped to the evaluator's grammar (or removed) before tokenizing.
_PREP = (
    ("\\left", ""),
    ("\\right", ""),
    ("\\!", ""),
    ("\\,", ""),
    ("\\;", " "),
    ("\\ ", " "),
    ("\\$", ""),
    ("$", ""),
    ("**", ""),
    ("\\%", "%"),
    ("−", "-"),
    ("–", "-"),
    ("×", "*"),
    ("·", "*"),
    ("⋅", "*"),
    ("÷", "/"),
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("\\div", "/"),
    ("€", ""),
    ("£", ""),
    ("¥", ""),
)
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
_MATHY = ("num", "frac", "op", "lp", "rp")
_BEFORE_SIGN = ("space", "eq", "other")
MAX_SCI_EXP = 400
_WINDOW = 4096  # an arithmetic run longer than this is not an answer


def _prep(s: str) -> str:
    for a, b in _PREP:
        s = s.replace(a, b)
    return _TEXT.sub(lambda m: " " + m.group(1) + " ", s)


def _tokens(s: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(s)]


def clean_number(tok: str, decimal_comma: bool = True) -> str | None:
    """A number token as a plain decimal string, or None when it is not one number."""
    tok = tok.strip()
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", tok):
        tok = tok.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", tok):
        tok = tok.replace(",", "")
    elif re.fullmatch(rf"\d{{1,3}}(?:{_SPACE_GROUP}\d{{3}})+", tok):
        tok = re.sub(_SPACE_GROUP, "", tok)
    elif "," in tok:
        if not decimal_comma:
            return None
        tok = tok.replace(",", ".")
    m = re.fullmatch(r"(\d+(?:\.\d+)?|\.\d+)(?:[eE]([-+]?\d+))?", tok)
    if m is None:
        return None
    if m.group(2) is None:
        return tok
    e = int(m.group(2))
    if abs(e) > MAX_SCI_EXP:
        return None
    return _format(Fraction(m.group(1)) * Fraction(10) ** e)


def _format(v: Fraction) -> str:
    """Exact value as a plain literal: 50, 2.5, -1/3 (a terminating decimal when one exists)."""
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator
    for q in (2, 5):
        while d % q == 0:
            d //= q
    if d == 1:
        k = 0
        while (v * 10**k).denominator != 1:
            k += 1
        s = f"{abs(v.numerator) * 10**k // v.denominator:0{k + 1}d}"
        return ("-" if v < 0 else "") + s[:-k] + "." + s[-k:]
    return f"{v.numerator}/{v.denominator}"


def _run(toks: list[tuple[str, str]], i: int) -> tuple[int, int, bool]:
    """The arithmetic run starting at toks[i]: (start, end, has_variable). A word after a space,
    punctuation or '=' ends it; a letter glued to the run ("u+14", "2x") is a variable; a word
    of 2+ letters glued after a number ("15kg") is a unit and ends it."""
    start, j, var = i, i, False
    k = i - 1
    while k >= 0 and toks[k][0] in ("word", "op", "lp"):  # glued to what precedes it:
        if toks[k][0] == "op" and toks[k][1] in "-+" and (k == 0 or toks[k - 1][0] in _BEFORE_SIGN):
            break  # a sign after a space, "=" or punctuation
        start, var, k = k, True, k - 1  # "u+14", "x^{10}": a variable's expression
    n = len(toks)
    while j < n:
        kind, text = toks[j]
        if text == "/" and j + 1 < n and toks[j + 1][0] == "word" and len(toks[j + 1][1]) > 1:
            break  # "$1500/month", "12.5 quarts/hour": a rate's unit
        if kind in _MATHY:
            j += 1
        elif kind == "space" and j + 1 < n and toks[j + 1][0] in ("op", "rp"):
            j += 1
        elif kind == "space" and j + 1 < n and toks[j + 1][0] == "frac" and toks[j - 1][0] == "num":
            j += 1  # "2 \frac{1}{2}": a mixed number
        elif kind == "space" and j > start and toks[j - 1][0] in ("op", "lp", "frac"):
            j += 1
        elif kind == "word" and j > start and toks[j - 1][0] in ("num", "rp", "op", "lp"):
            glued_unit = len(text) >= 2 and toks[j - 1][0] in ("num", "rp")
            if glued_unit:
                break
            var = True
            j += 1
        elif kind == "cmd" and text in ("\\sqrt", "\\pi"):
            var = True  # not plain arithmetic: kept as written for equivalence to judge
            j += 1
        else:
            break
    while j > start and toks[j - 1][0] in ("space", "op", "lp") and toks[j - 1][1] != ")":
        j -= 1  # "5 -" or "5 (" before a word: the operator belongs to the prose
    return start, j, var


def _starts_run(toks: list[tuple[str, str]], i: int) -> bool:
    kind, text = toks[i]
    if kind in ("num", "frac"):
        return True
    if kind in ("lp",) or (kind == "op" and text in "-+"):
        return any(k in ("num", "frac") for k, _ in toks[i + 1 : i + 4])
    return False


def _runs(toks: list[tuple[str, str]], first_only: bool) -> list[tuple[int, int, bool]]:
    """Arithmetic runs in order; a run followed by '=' is replaced by the run after it (the
    chain's result). first_only: stop after the first chain (a marker's answer)."""
    out: list[tuple[int, int, bool]] = []
    i, n = 0, len(toks)
    chained = False
    while i < n:
        if not _starts_run(toks, i):
            i += 1
            continue
        r = _run(toks, i)
        if chained:
            out[-1] = r
        else:
            out.append(r)
        k = r[1]
        while k < n and toks[k][0] == "space":
            k += 1
        if k < n and toks[k][0] == "eq":  # a chain: the run right after '=' is the result
            k += 1
            while k < n and toks[k][0] == "space":
                k += 1
            if k < n and _starts_run(toks, k):
                chained = True
                i = k
                continue
        chained = False
        if first_only:
            break
        i = max(r[1], i + 1)
    return out


def _value(toks: list[tuple[str, str]], run: tuple[int, int, bool], decimal_comma: bool) -> str:
    start, end, var = run
    part = toks[start:end]
    raw = "".join(t for _, t in part).strip()
    nums = [t for k, t in part if k == "num"]
    if var:
        return raw
    kinds = [k for k, _ in part if k != "space"]
    signs = [t for k, t in part if k == "op"]
    if kinds in (["num"], ["op", "num"]) and signs in ([], ["-"], ["+"]):
        got = clean_number(nums[0], decimal_comma)
        if got is None:
            return raw
        return ("-" + got if signs == ["-"] else got).replace("--", "")
    if kinds[-1:] == ["rp"] and "frac" in kinds and kinds.count("num") == 2 and len(kinds) <= 8:
        return raw.replace(" ", "")  # a lone \frac{3}{4}: MATH-style LaTeX kept as written
    expr: list[str] = []
    prev = ""
    for k, t in part:
        if k == "frac" and prev == "num":
            expr.append("+")  # 2\frac{1}{2} is a mixed number (the MATH convention), not 2 * 1/2
        if k != "space":
            prev = k
        if k == "num":
            c = clean_number(t, decimal_comma)
            if c is None:
                return raw
            expr.append(c if "/" not in c else f"({c})")
        elif k != "space":
            expr.append(t.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac"))
    v = exact_value("".join(expr))
    return raw if v is None else _format(v)


def numeric_answer(span: str) -> str | None:
    """The number an answer span states (a marker's line or a box): see the module doc."""
    if "\\boxed" in span or "\\fbox" in span:
        inner = last_boxed(span)
        if not inner:
            return None  # "within \\boxed{}": an empty box states nothing
        span = inner
    span = _prep(span)
    toks = _tokens(span)
    first = next((k for k, (kind, _) in enumerate(toks) if kind != "space"), None)
    if first is not None and toks[first][0] == "word":
        # a sentence, not a number: its conclusion is its last sentence with a number
        sentences = [x for x in _SENTENCE.split(span) if re.search(r"\d", x)]
        if not sentences:
            return None
        span = _ENUMERATOR.sub("", sentences[-1])  # "Step 2: They have 42 books": not 2
        toks = _tokens(span)
        run = _sentence_result(toks)  # "Answer: She pays 9 * 2 = 18 dollars"
        if run is not None:
            return _value(toks, run, len(re.findall(r"\d,\d", span)) <= 1)
    # a decimal comma needs a text without other digit-comma-digit groups (see module doc)
    decimal_comma = len(re.findall(r"\d,\d", span)) <= 1
    runs = _runs(toks, first_only=True)
    return _value(toks, runs[0], decimal_comma) if runs else None


_COPULA = frozenset("is are was were be equals".split())
_ENUMERATOR = re.compile(r"^\s*(?:(?:step|part|option|case)\s*)?\d+\s*[.:)]\s+", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+(?=\S)|\n")


def _sentence_result(toks: list[tuple[str, str]]) -> tuple[int, int, bool] | None:
    """A marker followed by a sentence states the sentence's result: the value after its last
    '=' ("... = 7 students x 3 = 21 students"), else the first number after its last copula
    ("The total ... in 48 hours is 3000 quarts"); else None (the
    caller takes the first number, as after "The answer is")."""
    runs = _runs(toks, first_only=False)
    if not runs:
        return None
    eqs = [k for k, (kind, _) in enumerate(toks) if kind == "eq"]
    if eqs:
        after = [r for r in runs if r[0] > eqs[-1]]
        return after[0] if after else None
    cops = [k for k, (kind, t) in enumerate(toks) if kind == "word" and t.lower() in _COPULA]
    if cops:
        after = [r for r in runs if r[0] > cops[-1]]
        if after:
            return after[0]
    return None


def last_numeric(text: str) -> str | None:
    """The last number or arithmetic run in a text (its chain's result), as numeric_answer."""
    last = max(text.rfind(d) for d in "0123456789")
    if last < 0:
        return None
    text = text[max(0, last - _WINDOW) : last + 64]  # tokenize only around the last digit
    toks = _tokens(_prep(text))
    runs = _runs(toks, first_only=False)
    if not runs:
        return None
    start, end, _ = runs[-1]
    decimal_comma = len(re.findall(r"\d,\d", "".join(t for _, t in toks[start:end]))) <= 1
    return _value(toks, runs[-1], decimal_comma)
