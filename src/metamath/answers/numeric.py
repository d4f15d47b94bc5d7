"""Numeric answers (GSM8K-style tasks): the whole number or expression a model wrote, never its
first digits. reading.py decides which run of a marker's text is the answer; this module reads
runs.

    numeric_answer("2 * 1.5 = 3.")            -> "3"        (the result of a chain)
    numeric_answer("10 * 5")                  -> "50"       (plain arithmetic, evaluated exactly)
    numeric_answer("5 apples over 2 days")    -> "5"        (a word after a space ends it)
    numeric_answer("10^{10^{10^{10}}}")       -> "10^{10^{10^{10}}}" (too big: kept, never 10)
    numeric_answer("u+14")                    -> "u+14"     (a variable: kept, never 14)
    numeric_answer("y + 30"), ("30 n"), ("12sqrt(13)"), ("2 pi"), ("1010_2"), ("2:30")
                                              -> kept as written (a variable, a function, a base,
                                                 a time: never the number inside)
    numeric_answer("5!"), ("10 x 5")          -> "120", "50" (a factorial; 'x' between numbers)
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
    ("²", "^2"),
    ("³", "^3"),
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


_TIMES_X = re.compile(r"(?<=\d)[ \t]*[xX][ \t]*(?=\d)")  # "10 x 5", "5x5": a product


def _prep(s: str) -> str:
    for a, b in _PREP:
        s = s.replace(a, b)
    if "x" in s or "X" in s:
        s = _TIMES_X.sub("*", s)
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


# Function words and symbols that make a run an expression, never a plain number: 12sqrt(13),
# 2 \pi, 12√13, 2π ("\sqrt", "\pi" and the like are commands).
_FN_WORDS = frozenset("sqrt pi sin cos tan log ln exp".split())
_FN_CMDS = frozenset(
    "\\sqrt \\pi \\sin \\cos \\tan \\log \\ln \\exp \\theta \\alpha \\infty".split()
)
# A lone lowercase letter after a number and a space is a variable ("30 n", "2 x + 5"), except
# the article "a" ("30 a day") and unit symbols ("24 m", "5 s", "3 g", "2 h", "4 l").
_NOT_VARIABLE = frozenset("amsghl")


def _fn(tok: tuple[str, str]) -> bool:
    kind, text = tok
    return (
        (kind == "cmd" and text in _FN_CMDS)
        or (kind == "word" and text.lower().rstrip("0123456789") in _FN_WORDS)  # "sqrt13"
        or (kind == "other" and text in "√∛π")
    )


def _variable(toks: list[tuple[str, str]], k: int) -> bool:
    """toks[k] is a lone lowercase letter that names a variable, not a word of prose: the next
    token after spaces is no word ("30 n", "y + 30"; not "30 n apples")."""
    if k >= len(toks):
        return False
    kind, text = toks[k]
    if kind != "word" or len(text) != 1 or not text.islower() or text in _NOT_VARIABLE:
        return False
    j = k + 1
    while j < len(toks) and toks[j][0] == "space" and "\n" not in toks[j][1]:
        j += 1
    return j >= len(toks) or toks[j][0] != "word"


def _spaced_operand(toks: list[tuple[str, str]], k: int) -> int | None:
    """Index of the operand left of a binary operator at toks[k] over spaces on the same line,
    when it is a variable, a function or a closing bracket ("y + 30", "x * 3", ") - 5")."""
    j = k - 1
    while j >= 0 and toks[j][0] == "space" and "\n" not in toks[j][1]:
        j -= 1
    if j < 0 or j == k - 1:
        return None
    if toks[j][0] == "rp" or _fn(toks[j]) or _variable(toks, j):
        return j
    return None


def _binary(toks: list[tuple[str, str]], k: int) -> bool:
    """toks[k] is an operator between operands, not a sign glued to a number ("is -5")."""
    kind, text = toks[k]
    if kind != "op":
        return False
    if text not in "-+":
        return True
    return k + 1 < len(toks) and toks[k + 1][0] == "space"


def _extend_left(toks: list[tuple[str, str]], i: int) -> tuple[int, bool]:
    """(start, has_variable) of a run found at toks[i], extended over what it is glued to ("u+14",
    "x^{10}", "\\sqrt{13}", "√13") and over a spaced operator with a variable left of it."""
    start, var, k = i, False, i - 1
    while k >= 0 and (toks[k][0] in ("word", "op", "lp") or toks[k][1] == "_" or _fn(toks[k])):
        if toks[k][0] == "op" and toks[k][1] in "-+" and (k == 0 or toks[k - 1][0] in _BEFORE_SIGN):
            break  # a sign after a space, "=" or punctuation
        start, var, k = k, True, k - 1  # "u+14", "x^{10}": a variable's expression
    if start >= 2 and toks[start - 1][0] == "space" and _fn(toks[start - 2]):
        return start - 2, True  # "\\log 12", "sqrt 13": a function of the number
    op = start if _binary(toks, start) else None
    if op is None:  # "y * 30": the operator sits between spaces left of the number
        j = start - 1
        while j >= 0 and toks[j][0] == "space" and "\n" not in toks[j][1]:
            j -= 1
        op = j if j >= 0 and j < start - 1 and _binary(toks, j) else None
    if op is not None:
        left = _spaced_operand(toks, op)
        if left is not None:
            start, var = left, True
    return start, var


def _run(toks: list[tuple[str, str]], i: int) -> tuple[int, int, bool]:
    """The arithmetic run starting at toks[i]: (start, end, kept_as_written). A word after a
    space, punctuation or '=' ends it; a letter glued to the run ("u+14", "2x"), a variable or a
    function after a space ("y + 30", "30 n", "2 \\pi", "12 sqrt(13)"), a clock time or ratio
    ("2:30") keep it as written; a word of 2+ letters glued after a number ("15kg") is a unit
    and ends it; "5!" is a factorial."""
    start, var = _extend_left(toks, i)
    j, n, depth = i, len(toks), 0
    while j < n:
        kind, text = toks[j]
        depth += (kind == "lp") - (kind == "rp")
        if depth < 0:
            break  # "(6 x 7 = 42)": the closing bracket belongs to the text around the run
        prev = toks[j - 1][0] if j > start else ""
        nxt = toks[j + 1] if j + 1 < n else ("", "")
        if text == "/" and nxt[0] == "word" and len(nxt[1]) > 1 and not _fn(nxt):
            break  # "$1500/month", "12.5 quarts/hour": a rate's unit
        if text == "-" and prev == "num" and nxt[0] == "word" and len(nxt[1]) > 1:
            break  # "10-gallon jars", "a 400-meter track": a compound word, not a difference
        if kind in _MATHY:
            j += 1
        elif text == "!" and prev in ("num", "rp"):
            j += 1  # a factorial: 5! is 120
        elif text == "_" and prev in ("num", "rp", "word"):
            var, j = True, j + 1  # "1010_2": a numeral in another base, or a subscript
        elif text == ":" and prev == "num" and nxt[0] == "num":
            var, j = True, j + 1  # "2:30", "3:1": a time or a ratio, never its first number
        elif _fn(toks[j]) and j > start:
            var, j = True, j + 1
        elif kind == "space" and nxt[0] in ("op", "rp"):
            j += 1
        elif kind == "space" and nxt[0] == "frac" and prev == "num":
            j += 1  # "2 \frac{1}{2}": a mixed number
        elif kind == "space" and j > start and prev in ("op", "lp", "frac"):
            j += 1
        elif (
            kind == "space"
            and "\n" not in text
            and prev in ("num", "rp")
            and (_fn(nxt) or _variable(toks, j + 1))
        ):
            j += 1  # "2 \pi", "30 n": the function or variable follows
        elif kind == "word" and j > start and prev in ("num", "rp", "op", "lp"):
            if len(text) >= 2 and prev in ("num", "rp"):
                break  # a glued unit: "15kg"
            var, j = True, j + 1
        elif kind == "word" and prev == "space" and _variable(toks, j):
            var, j = True, j + 1  # "3 * x", "30 n"
        else:
            break
    while j > start and toks[j - 1][0] in ("space", "op", "lp") and toks[j - 1][1] != ")":
        j -= 1  # "5 -" or "5 (" before a word: the operator belongs to the prose
    return start, j, var


def _starts_run(toks: list[tuple[str, str]], i: int) -> bool:
    kind, text = toks[i]
    if kind == "num" and i >= 2 and toks[i - 1][1] == "^" and toks[i - 2][0] == "word":
        return _fn(toks[i - 2]) or len(toks[i - 2][1]) == 1  # "cm^2" is a unit's power
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


def last_numeric(text: str) -> str | None:
    """The last number or arithmetic run in a text (its chain's result)."""
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
