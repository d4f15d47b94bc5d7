"""Backward questions: mask one number of a seed question with an unknown variable.

    for m in mask_question(question, seed_id="gsm8k/train/1", kind="gsm8k"):
        m.question     # "Natalia sold clips to x of her friends in April, ..."
        m.value        # "48" (the value of x the solver must recover)
        unmask(m) == question   # always: the value put back reproduces the original

Why not the original's whitespace tokens (method reference 1.4): splitting on spaces loses the
"$" of "$100." and "$10,", reads "fifth" as 5, masks "one" in "no one", and breaks LaTeX in MATH
("1$", "$2048," lose a math delimiter). Here a regex finds number *spans*: only the digits (or
the number word) are replaced, so currency signs, percent signs, punctuation and `$` delimiters
stay where they were. Skipped on purpose:
  - numbers glued to letters or other numbers ("5th", "2x", "10am", "10:30", "3/4/2020", "x2"),
    leading zeros ("007"), and 4-digit integers 1900-2100 (years);
  - ordinal and fraction words ("fifth", "half", "two-thirds") and the bare word "one" (mostly
    idiom: "no one", "one of"; its masks read oddly, reference 1.4);
  - inside MATH formulas (or glued to one, "1$\\cdot$n"), every number except a formula that *is* one number ("$6$",
    "$2{,}048$"): masking a digit inside "$x^2+3x$" gives a different problem, not a question
    with a blank;
  - questions that already use the variable name ("2 x 3 feet" for x, "$X$" in MATH).
Each maskable span gives its own candidate (all positions, as the original; reference 1.4).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from metamath.augment.leaks import TENS, UNITS

# Cardinal number words mapped to values. "one" is left out on purpose (see the module doc).
_UNITS = {k: v for k, v in UNITS.items() if v >= 2}
_TENS = TENS
_ONES = {k: v for k, v in UNITS.items() if 1 <= v < 10}
_WORDS = {**_UNITS, **_TENS}
_WORD_OF = {v: k for k, v in {**_WORDS, "one": 1}.items()}

# Digits: thousands groups "1,000" or a plain run, optional decimals, optional "/denominator".
# Not glued to a word character, a decimal point, a comma-number, a slash or a colon-number.
_NUM = re.compile(
    r"(?<![\w.,/:\\])(?<![\w]-)"
    r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(/\d+)?"
    r"(?![\w/]|[.,:]\d)"
)
_WORD_RE = re.compile(
    r"\b(" + "|".join(_TENS) + r")-(" + "|".join(_ONES) + r")\b(?!-)"
    r"|\b(" + "|".join(_WORDS) + r")\b(?!-\w)",
    re.IGNORECASE,
)
# A MATH formula that is exactly one number: "6", "2{,}048", "3.5".
_MATH_NUM = re.compile(r"\s*(\d{1,3}(?:\{,\}\d{3})+|\d+)(\.\d+)?\s*")
_ENV = re.compile(r"\[(asy)\]|\\begin\{([a-zA-Z*]+)\}")
VARIABLE = {"gsm8k": "x", "math": "X"}


@dataclass(frozen=True)
class Masked:
    """One backward-question candidate. `question[start:start+len(var)]` is the variable.

    It keeps the original question (one shared string, not a copy) and the span it masks; the
    masked text is built when asked for, so the candidates of a long question with many numbers
    cost a few dozen bytes each, not a copy of the question each."""

    id: str
    seed_id: str
    source: str = field(repr=False, compare=False)  # the original question
    value: str  # normalised masked value: "1000", "2.5", "3/4", "5"
    var: str
    start: int
    end: int  # the masked span of `source` is source[start:end]
    style: str  # how the value was written: "plain", "commas", "math_commas", "word", "Word"
    decimals: int = 0

    @property
    def question(self) -> str:
        return self.source[: self.start] + self.var + self.source[self.end :]

    def to_dict(self) -> dict:
        keys = ("id", "seed_id", "question", "value", "var", "start", "style", "decimals")
        return {k: getattr(self, k) for k in keys}


def normalise_number(s: str) -> str:
    """'1,000' -> '1000', '2.50' -> '2.5', '3.0' -> '3' (the original's delete_extra_zero)."""
    s = s.replace("{,}", "").replace(",", "")
    if "/" in s:
        return s
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def render_value(value: str, style: str, decimals: int = 0) -> str:
    """Write `value` the way the masked span was written (the inverse of normalise_number)."""
    if style in ("word", "Word"):
        n = int(value)
        w = _WORD_OF.get(n) or f"{_WORD_OF[n - n % 10]}-{_WORD_OF[n % 10]}"
        return w.capitalize() if style == "Word" else w
    if "/" in value:
        return value
    whole, _, frac = value.partition(".")
    if decimals:
        frac = frac.ljust(decimals, "0")
    if style == "commas":
        whole = f"{int(whole):,}"
    elif style == "math_commas":
        whole = f"{int(whole):,}".replace(",", "{,}")
    return whole + ("." + frac if frac else "")


def unmask(m: Masked) -> str:
    """Put the masked value back: must give the original question exactly."""
    q = m.question
    if q[m.start : m.start + len(m.var)] != m.var:
        raise ValueError(f"{m.id}: no variable {m.var!r} at offset {m.start}")
    return q[: m.start] + render_value(m.value, m.style, m.decimals) + q[m.start + len(m.var) :]


def math_regions(text: str) -> list[tuple[int, int, int, int]]:
    """Math-mode regions as (open, content_start, content_end, close_end) offsets.

    Delimiters: $$..$$, $..$, \\[..\\], \\(..\\); also [asy]..[/asy] and \\begin{env}..\\end{env}. An escaped "\\$" is a dollar sign, not a
    delimiter. An unclosed delimiter makes the rest of the text math (so nothing is masked there).
    """
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        env = _ENV.match(text, i) if c in "[\\" else None
        if env:  # [asy]...[/asy] drawing code, \begin{tabular}...\end{tabular}: never masked
            close = f"[/{env.group(1)}]" if c == "[" else f"\\end{{{env.group(2)}}}"
            j = text.find(close, env.end())
            j = n if j == -1 else j
            out.append((i, env.end(), j, min(n, j + len(close))))
            i = j + len(close)
        elif c == "\\" and i + 1 < n and text[i + 1] in "[(":
            close = "\\]" if text[i + 1] == "[" else "\\)"
            j = text.find(close, i + 2)
            j = n if j == -1 else j
            out.append((i, i + 2, j, min(n, j + 2)))
            i = j + 2
        elif c == "\\":
            i += 2  # skip escaped characters such as \$
        elif c == "$":
            d = "$$" if text.startswith("$$", i) else "$"
            j = i + len(d)
            while j < n and not (text.startswith(d, j) and text[j - 1] != "\\"):
                j += 1
            out.append((i, i + len(d), j, min(n, j + len(d))))
            i = j + len(d)
        else:
            i += 1
    return out


def has_variable(question: str, var: str) -> bool:
    """Does the question already use the variable name as a standalone letter?"""
    return re.search(rf"(?<![A-Za-z\\]){var}(?![A-Za-z])", question) is not None


def _spans(text: str, kind: str) -> Iterator[tuple[int, int, str, str, int]]:
    """(start, end, value, style, decimals) of every maskable span, in text order."""
    regions = math_regions(text) if kind == "math" else []
    found = []
    inside = [False] * (len(text) + 1)
    for o, cs, ce, e in regions:
        inside[o:e] = [True] * (e - o)
        m = _MATH_NUM.fullmatch(text, cs, ce)
        if m and m.group(1) and not (len(m.group(1)) > 1 and m.group(1)[0] == "0"):
            style = "math_commas" if "{,}" in m.group(1) else "plain"
            dec = len(m.group(2)) - 1 if m.group(2) else 0
            found.append(
                (
                    m.start(1),
                    m.end(2) if m.group(2) else m.end(1),
                    normalise_number(m.group(0).strip()),
                    style,
                    dec,
                )
            )
    for m in _NUM.finditer(text):
        if inside[m.start()]:
            continue
        whole, dec, frac = m.group(1), m.group(2), m.group(3)
        if kind == "math" and (
            text[m.end() : m.end() + 1] == "$"
            or (
                text[m.start() - 1 : m.start()] == "$"
                and text[m.start() - 2 : m.start() - 1] != "\\"
            )
        ):
            continue  # "1$\cdot$n": a coefficient glued to a formula is part of it
        if len(whole) > 1 and whole[0] == "0" or (frac and dec):
            continue  # "007"; "1.5/2"
        if not dec and not frac and "," not in whole and 1900 <= int(whole) <= 2100:
            continue  # a year
        if frac and (int(frac[1:]) == 0 or (dec is None and "," in whole)):
            continue
        style = "commas" if "," in whole else "plain"
        found.append(
            (m.start(), m.end(), normalise_number(m.group(0)), style, len(dec) - 1 if dec else 0)
        )
    for m in _WORD_RE.finditer(text):
        if inside[m.start()]:
            continue
        if m.group(1):
            value = _TENS[m.group(1).lower()] + _ONES[m.group(2).lower()]
        else:
            value = _WORDS[m.group(3).lower()]
        style = "Word" if m.group(0)[0].isupper() else "word"
        if m.group(0) != render_value(str(value), style):
            continue  # "FIVE", "Twenty-Five": a case we would not reproduce exactly
        found.append((m.start(), m.end(), str(value), style, 0))
    found.sort()
    yield from found


def mask_question(question: str, seed_id: str, kind: str = "gsm8k") -> list[Masked]:
    """Every backward-question candidate of a question (empty if none is maskable)."""
    if kind not in VARIABLE:
        raise ValueError(f"kind={kind!r}: use one of {sorted(VARIABLE)}")
    var = VARIABLE[kind]
    if has_variable(question, var):
        return []
    return [
        Masked(
            id=f"{seed_id}/m{j}",
            seed_id=seed_id,
            source=question,
            value=value,
            var=var,
            start=s,
            end=e,
            style=style,
            decimals=dec,
        )
        for j, (s, e, value, style, dec) in enumerate(_spans(question, kind))
    ]


def dollars_balanced(text: str) -> bool:
    """Is every unescaped `$` paired (LaTeX math mode opened and closed)?"""
    return len(re.findall(r"(?<!\\)\$", text)) % 2 == 0
