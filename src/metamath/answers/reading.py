"""What the text after an answer marker states, read the way a careful grader reads it.

    numeric_answer("2 * 1.5 = 3.")                                   -> "3"
    read_numeric("96 potatoes can make 576 hash browns.", "label", "96 x 6 = 576")  -> ("576", True)
    block_line("x = y + 30\\nx = 40 + 30\\nx = 70\\n\\nShe has 70 coins.")           -> "x = 70"

By the marker's kind (markers.py):
  phrase / hashes  "The answer is X", "#### X": the number right after the marker (a chain gives
      its result); a sentence there is read like a label's.
  label / field    "Answer: <text>", '"answer": "<text>"', "<answer> <text> </answer>": a value
      or a sentence. A sentence states (in this order) the value after its last '=' when no
      other value follows ("30 slices - 15 slices = 15 slices left"); its one number; the number the work derived last ("96 x 6
      = 576", then "96 potatoes can make 576 hash browns") or its one number the work never
      wrote, the others restating the question's data or the steps ("They need $26 more to
      reach their goal of $200"), when these agree; the one value right after a copula ("... is
      900").
      Parenthesised remarks with words are read only when nothing else has a number. A sentence
      naming several numbers that none of these rules singles out is AMBIGUOUS: a reader without
      the question could not say which is the answer, so it states no answer (and no fallback
      guesses one). A structured field holding words only ("cannot be determined") states that.
  block            a bare label ("Answer:" alone on its line) opens a section that runs to the
      next heading: a value or derivation on its first line is read to the derivation's last
      line ("x = y + 30 / x = 40 + 30 / x = 70"); a section in prose states its conclusion, its
      last line with a number (lines addressed to the reader excluded), read as a label's text.
"""

from __future__ import annotations

import re
from fractions import Fraction

from metamath.answers.boxed import last_boxed
from metamath.answers.markers import ALTERNATIVE
from metamath.answers.numeric import _prep, _runs, _starts_run, _tokens, _value, clean_number

_COPULA = frozenset("is are was were be equals".split())
_OP_WORDS = frozenset("x divided times multiplied plus minus".split())  # "5 minutes x 40 hours"
_ENUMERATOR = re.compile(r"^\s*(?:(?:step|part|option|case)\s*)?\d+\s*[.:)]\s+", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+(?=\S)|\n")
_REMARK = re.compile(r"\([^()]*[A-Za-z]{2,}[^()]*\)")  # "(9 eggs x $2)", "(3 hours)"
_TO_READER = re.compile(r"\b(?:you|your|I hope|let me know|feel free)\b", re.IGNORECASE)
_FN = r"(?:sqrt|pi|sin|cos|tan|log|ln|exp)"
_WORD = re.compile(rf"(?<![\\A-Za-z])(?!{_FN}\b)[A-Za-z]{{2,}}")
_BARE_START = re.compile(r"[-+]?[\d.(\\$]|[A-Za-z](?:_\{?\w+\}?)?\s*=")
CONTEXT = 4096  # how far back the work is read for the values it derived


def _decimal_comma(s: str) -> bool:
    return len(re.findall(r"\d,\d", s)) <= 1  # numeric.py's rule


def _first_run(span: str) -> str | None:
    return _stated_value(span)[0]


def _stated_value(span: str) -> tuple[str | None, bool]:
    """(the first number or chain result of span, stated). A hedge that offers another value
    in its place ("18 or 20") is (None, True): it states no one answer, and nothing may guess
    one past it. The same value said twice ("18, or 18.0") is no hedge."""
    toks = _tokens(span)
    runs = _runs(toks, first_only=True)
    if not runs:
        return None, False
    dc = _decimal_comma(span)
    got = _value(toks, runs[0], dc)
    rest = span[sum(len(t) for _, t in toks[: runs[0][1]]) :]
    m = ALTERNATIVE.match(rest)
    if m:
        alt_toks = _tokens(rest[m.end() :])
        alt = _runs(alt_toks, first_only=True)
        if alt and _key(_value(alt_toks, alt[0], dc)) != _key(got):
            return None, True
    return got, True


def numeric_answer(span: str) -> str | None:
    """The number a phrase marker's span or a box states ("The answer is X", "#### X")."""
    return _numeric(span)[0]


def _numeric(span: str) -> tuple[str | None, bool]:
    """numeric_answer with its `stated` flag (read_numeric's)."""
    if "\\boxed" in span or "\\fbox" in span:
        inner = last_boxed(span)
        if not inner:
            return None, False  # "within \\boxed{}": an empty box states nothing
        span = inner
    span = _prep(span)
    first = re.search(r"\S", span)
    if first is not None and re.match(r"[^\W\d_]", span[first.start() :]):
        # a sentence, not a number: read as a label's sentence
        got = _sentence(span, "")[0]
        return got, got is not None
    return _stated_value(span)


def _key(v: str) -> Fraction | str:
    try:
        return Fraction(v)
    except (ValueError, ZeroDivisionError):
        return v


def _after_eq(toks: list[tuple[str, str]], k: int) -> str | None:
    """The value right after the '=' at toks[k], or None."""
    j = k + 1
    while j < len(toks) and toks[j][0] == "space":
        j += 1
    if j < len(toks) and _starts_run(toks, j):
        run = _runs(toks[j : j + 64], first_only=True)
        if run:
            return _value(toks[j : j + 64], run[0], True)
    return None


def derived(toks: list[tuple[str, str]]) -> list[str]:
    """Values the work derived, in order: the value after an '=' whose left side (since the line
    start or the previous '=') computes something ("35 x 12 = 420", "$210 - $100 = $110"),
    names one unknown ("x = 7"), or names what an earlier equation computed ("Total = $83 +
    $91" then "Total = $174"); never a given restated ("Goal = $200")."""
    out: list[str] = []
    left: list[tuple[str, str]] = []
    named: set[tuple[str, ...]] = set()  # left sides of the equations seen so far
    for k, (kind, text) in enumerate(toks):
        if kind == "space" and "\n" in text:
            left = []
        elif kind == "eq":
            words = [t.lower() for c, t in left if c == "word"]
            ops = any(c == "op" for c, _ in left) or any(w in _OP_WORDS for w in words)
            computes = ops and any(c == "num" for c, _ in left)
            unknown = len(left) == 1 and len(words) == 1 and len(words[0]) == 1
            name = tuple(words) if words and len(words) == len(left) else None
            again = name is not None and name in named
            got = _after_eq(toks, k) if computes or unknown or again else None
            if got is not None:
                out.append(got)
            if name is not None:
                named.add(name)
            left = []
        elif kind != "space":
            left.append((kind, text))
    return out


def _written(context: str) -> set:
    """Every number the work wrote (its givens and its results), by value."""
    toks = _tokens(_prep(context[-CONTEXT:]))
    return {_key(v) for k, t in toks if k == "num" and (v := clean_number(t)) is not None}


def _sentence(span: str, context: str) -> tuple[str | None, bool]:
    """(value, stated) of a label's text: see the module doc."""
    sentences = [x for x in _SENTENCE.split(span) if x.strip()]
    if not sentences:
        return None, False
    starts_with_word = re.match(r"[\s*>-]*[^\W\d_]", sentences[0]) is not None
    with_digit = [x for x in sentences if re.search(r"\d", x)]
    if not with_digit:
        return None, False
    sentence = with_digit[-1] if starts_with_word else sentences[0]
    sentence = _ENUMERATOR.sub("", re.sub(r"^[\s*>]*-\s+", "", sentence))  # "Step 2:", "- "
    whole = _tokens(sentence)
    outside = _REMARK.sub(" ", sentence)
    if re.search(r"\d", outside):
        sentence = outside  # "(120 / 15 = 8 packs)": a remark, read only for what it derives
    toks = _tokens(sentence)
    runs = _runs(toks, first_only=False)
    if not runs:
        return None, False
    dc = _decimal_comma(sentence)
    eqs = [k for k, (kind, _) in enumerate(toks) if kind == "eq"]
    after = [r for r in runs if eqs and r[0] > eqs[-1]]
    if after and len({_key(_value(toks, r, dc)) for r in after}) == 1:
        return _value(toks, after[0], dc), True  # "... = 15 slices left"; not "x = 12, so 96"
    values: dict = {}
    for r in runs:
        v = _value(toks, r, dc)
        values.setdefault(_key(v), v)
    if len(values) == 1:
        return next(iter(values.values())), True
    # The number the work derived last that the sentence names, and the one plain number it
    # names that the work never wrote (the rest restates the question's data or the steps):
    # either singles the answer out; when both exist and differ, the sentence is ambiguous.
    work = derived(_tokens(_prep(context[-CONTEXT:]))) + derived(whole)
    last = next((_key(v) for v in reversed(work) if _key(v) in values), None)
    written = _written(context)
    new = [k for k in values if isinstance(k, Fraction) and k not in written]
    picks = {last} if last is not None else set()
    picks |= {new[0]} if len(new) == 1 else set()
    if len(picks) == 1:
        return values[picks.pop()], True
    if picks:
        return None, True
    # "... is 900": the value right after a copula, when only one value is stated that way
    cops = {k + 2 for k, (kind, t) in enumerate(toks) if kind == "word" and t.lower() in _COPULA}
    stated = {_key(v): v for r in runs if r[0] in cops for v in [_value(toks, r, dc)]}
    if len(stated) == 1:
        return next(iter(stated.values())), True
    return None, True  # several numbers, none singled out: ambiguous


def _bare(line: str) -> bool:
    """A value or a derivation step, not prose: "18", "$\\frac12$", "18 eggs", "x = 40 + 30"."""
    s = line.strip().lstrip("*#>").strip()
    s = s[2:] if s.startswith("- ") else s
    return bool(_BARE_START.match(s)) and len(_WORD.findall(s)) <= 3


_LIST_ITEM = re.compile(r"^[ \t>]*(?:[-*+•]|\d{1,2}[.)])[ \t]+(?=\S)")  # "- 18", "1. 18"


def block_line(block: str) -> tuple[str, int]:
    """(the line a section after a bare label states, its offset in the block), without a
    list item's bullet or number ("- 18 apples", "1. 18 apples")."""
    line, at = _block_line(block)
    item = _LIST_ITEM.match(line)
    return (line[item.end() :], at + item.end()) if item else (line, at)


def _block_line(block: str) -> tuple[str, int]:
    lines, pos = [], 0
    for line in block.split("\n"):
        lines.append((line, pos))
        pos += len(line) + 1
    body = [(x, p) for x, p in lines if x.strip()]
    if not body:
        return "", 0
    first = body[0]
    if _bare(first[0]):
        if "=" not in first[0]:
            return first
        k = lines.index(first)
        last = first
        while k + 1 < len(lines) and "=" in lines[k + 1][0] and _bare(lines[k + 1][0]):
            k += 1
            last = lines[k]
        return last  # "x = y + 30 / x = 40 + 30 / x = 70": the derivation's result
    ends = [(x, p) for x, p in body if re.search(r"\d", x) and not _TO_READER.search(x)]
    return ends[-1] if ends else first


def read_numeric(span: str, kind: str, context: str = "") -> tuple[str | None, bool]:
    """(number, stated) after a marker of `kind` (markers.py); `context` is the text before
    the span (the work). stated=True with no number: the marker states something a reader
    cannot turn into one number (an ambiguous sentence, a structured answer in words)."""
    if kind in ("phrase", "hashes") or "\\boxed" in span or "\\fbox" in span:
        return _numeric(span)
    if kind == "block":
        line, at = block_line(span)
        span, context = line, context + span[:at]
    bare = _bare(span)
    if bare or _BARE_START.match(span.strip().lstrip("*#>").strip()):  # it opens with a value
        got, stated = _stated_value(_prep(span))
        if got is None and stated:  # "18 or 20", "18 (or 20 if Sunday counts)": a hedge
            return None, True
        if bare and got is not None and "=" not in span:
            return got, True
    got, stated = _sentence(_prep(span), context)
    if got is None and kind == "field":
        stated = stated or bool(re.search(r"[^\W_]{2,}", span))  # an answer in words
    return got, stated


def conclusion(text: str) -> str | None:
    """The number the conclusion of a reply without a marker states (the flexible fallback of
    numeric tasks): its last sentence with a digit, when that is prose, read by the label rules
    ("Therefore, John needs 10 pizzas so each of his 20 friends gets 4 slices" -> 10). None
    when the last line is no sentence or the sentence singles out no number (the caller then
    takes the last number)."""
    end = len(text)
    for _ in range(3):  # lines addressed to the reader ("ask me 2 more!") are skipped
        d = max(text.rfind(c, 0, end) for c in "0123456789")
        if d < 0:
            return None
        start = text.rfind("\n", 0, d) + 1
        stop = text.find("\n", d, end)
        line = text[start : end if stop < 0 else stop]
        if not _TO_READER.search(line):
            break
        end = start
    else:
        return None
    if _bare(line):
        return None
    last = [x for x in _SENTENCE.split(_prep(line)) if re.search(r"\d", x)][-1]
    return _sentence(last, text[:start])[0]
