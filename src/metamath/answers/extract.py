"""Final-answer extraction for every convention MetaMath data and real models use.

    extract("... The answer is: 18", task="gsm8k")                  -> "18"
    extract("... so $\\boxed{\\frac{1}{2}}$.", mode="flexible")      -> "\\frac{1}{2}"

Strict mode reads explicit answer markers only (markers.py: "The answer is", "Answer:",
"**Final Answer**", "#### X", other languages, Minerva's "The final answer is $X$. I hope it is
correct."); the last marker that states something wins. Flexible mode takes a \\boxed{} that
comes after the last marker, else the marker's answer, else the last box, else the last math
expression a reader would take: the last $...$ / \\(...\\) / \\[...\\] span, a final "= X", or
the last number (with the arithmetic around it), whichever comes last.

GSM8K-style tasks read the whole number or expression after the marker (numeric.py): never
rounded (the original rounds, so 17.6 passes for 18), never truncated to its first digits
(so 10^{10}, 10 * 5, 10e5 and u+14 are never 10 or 14), chains give their result. Every scan is
linear: adversarial 5 MB strings cost a few passes.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from metamath.answers.boxed import last_boxed_at
from metamath.answers.markers import first_key, marked_spans, sentence_end
from metamath.answers.mathtext import (
    _DELIMS,
    _PROSE_WORD,
    _WORD,
    _is_prose,
    _mask_groups,
    clean_latex,
    math_sentence,
    opens_sentence,
)
from metamath.answers.numeric import last_numeric
from metamath.answers.reading import (
    CONTEXT,
    block_line,
    conclusion,
    numeric_answer,
    read_numeric,
)
from metamath.answers.runon import before_run_on

# The graders, defined here once: which family of answers a problem has. gsm8k and
# gsm8k_backward read a number; math reads LaTeX. (Rows and APIs call the grader `task`.)
Grader = Literal["gsm8k", "math", "gsm8k_backward"]
GRADERS: tuple[str, ...] = get_args(Grader)
NUMERIC_GRADERS = ("gsm8k", "gsm8k_backward")
# The two extraction modes, defined here once: strict reads explicit answer markers only;
# flexible adds the last \\boxed{} and the last math expression.
Mode = Literal["strict", "flexible"]
MODES: tuple[str, ...] = get_args(Mode)
_TAIL = 4096  # fallbacks look at the tail first (linear, and cheap on 5 MB text)
# A completion that is just a value (the prompt ended with "A:" or "Answer:"): " 18", "$18$."
_BARE_VALUE = re.compile(r"\$?[-+]?[\d.,/]*\d[\d.,/]*\$?\.?|\$[^$\n]{1,40}\$\.?")


def _answer(span: str, numeric: bool, kind: str = "label", context: str = "") -> tuple:
    """(answer, stated) of a marker's span of `kind`; stated without an answer: the marker
    states something no rule can read as one answer (reading.py), so nothing guesses past it."""
    if numeric:
        return read_numeric(span, kind, context)
    if kind == "block":
        span = block_line(span)[0]
    got, ambiguous = clean_latex(span), False
    if got is not None and (
        len(_PROSE_WORD.findall(_mask_groups(got))) >= 2 or opens_sentence(span)
    ):
        got, ambiguous = math_sentence(span)  # "Hence, the degree of $f$ is 3" (mathtext.py)
        ambiguous = ambiguous and got is None
    if got is None or _is_prose(got) or not re.search(r"[^\W_]", got):
        # a template or a brace ("___", "{") states nothing; a structured answer in words does
        words = kind == "field" and re.search(r"[^\W\d_]{2,}", span) is not None
        return None, ambiguous or words
    return got.strip("`\"' ") or None, True


def _marked(text: str, numeric: bool) -> tuple[str | None, int]:
    """(answer after the last marker that states one, index where its span ends); (None, end)
    when the last marker that states something states no single answer."""
    for span, start, end, kind in marked_spans(text):
        if not span.strip():
            continue
        got, stated = _answer(span, numeric, kind, text[max(0, start - CONTEXT) : start])
        if got is not None or stated:
            return got, end
    return None, -1


def _last_math_span(text: str) -> tuple[str, int, int] | None:
    """(content, start, end) of the last $...$, $$...$$, \\(...\\) or \\[...\\] span."""
    best = None
    for left, right in _DELIMS:
        end = text.rfind(right)
        if end < 0:
            continue
        if right == "$":
            if text.count("$") - text.count("\\$") < 2:
                continue
            start = text.rfind("$", 0, end)
            while start > 0 and text[start - 1] == "\\":
                start = text.rfind("$", 0, start - 1)
            if start < 0:
                continue
            inner = text[start + 1 : end]
        else:
            start = text.rfind(left, 0, end)
            if start < 0:
                continue
            inner = text[start + len(left) : end]
        if right == "$" and (not inner.strip() or len(_WORD.findall(inner)) >= 2):
            continue  # "$5 and $": currency signs around prose, not a math span
        if best is None or end > best[2]:
            best = (inner.strip(), start, end + len(right))
    return best


def _last_eq(text: str) -> int:
    """Index of the last '=' that is not part of <=, >=, != or ==, or -1."""
    i = text.rfind("=")
    while i >= 0 and (text[i - 1 : i] in ("<", ">", "!", "\\", "=") or text[i + 1 : i + 2] == "="):
        i = text.rfind("=", 0, i - 1) if i > 0 else -1
    return i


def _last_expression(text: str, numeric: bool) -> str | None:
    """The flexible fallback: the last math span, final '= X' or number, whichever is last."""
    for window in (text[-_TAIL:], text) if len(text) > _TAIL else (text,):
        span = _last_math_span(window)
        after = window[span[2] :] if span else window
        if numeric:
            got = conclusion(after) if span is None else None
            got = got if got is not None else last_numeric(after)
            if got is None and span is not None:
                got = numeric_answer(span[0])
            if got is None and span is not None:
                got = last_numeric(window[: span[1]])
        else:
            eq = _last_eq(after)
            num = last_numeric(after)
            got = None
            if eq >= 0:
                tail = after[eq + 1 :]
                line = tail.split("\n", 1)[0]
                got = clean_latex(line[: sentence_end(line)])
            if got is None and num is not None:
                got = num
            if got is None and span is not None:
                got = clean_latex(span[0])
        if got is not None:
            return got
    return None


def extract(text: str | None, mode: str = "strict", task: str = "math") -> str | None:
    """The final answer in a completion, or None.

    mode: "strict" (explicit markers only) or "flexible" (markers, then the last \\boxed{}, then
    the last math expression). task: "gsm8k"/"gsm8k_backward" (a number) or "math" (LaTeX).
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}")
    if task not in GRADERS:
        raise ValueError(f"task={task!r}: use one of {GRADERS}")
    if not text:
        return None
    got, _ = extract_with_source(text, mode, task)
    return got


def extract_with_source(
    text: str, mode: str, task: str, fallback: bool = True
) -> tuple[str | None, str]:
    """(answer, which rule found it: "strict" | "flexible" | "none"). fallback=False stops
    flexible mode before the last-expression guess (for reference solutions)."""
    numeric = task in NUMERIC_GRADERS

    def answered(prefix: str) -> bool:  # a marker or a box states something, or a lone value
        if _marked(prefix, numeric)[1] >= 0 or last_boxed_at(prefix) is not None:
            return True
        return len(prefix) < 64 and _BARE_VALUE.fullmatch(prefix.strip()) is not None

    digit = re.search(r"\d", text[:_TAIL])  # where a lone value could start
    first = min(x for x in (first_key(text), digit.start() if digit else -1, len(text)) if x >= 0)
    text = before_run_on(text, answered, first)  # runon.py: invented next turns
    marked, at = _marked(text, numeric)
    if mode == "strict":
        return (marked, "strict") if marked is not None else (None, "none")
    # Flexible: a \boxed{} after the last marker is the more final answer ("... the answer is
    # NOT a multiple of 3 ... so $\boxed{42}$").
    box = last_boxed_at(text)
    if marked is not None and (box is None or box[1] < at):
        return marked, "strict"
    if box is not None and box[0] and (marked is not None or box[1] > at):
        ans = _answer("\\boxed{" + box[0] + "}", numeric)[0]
        if ans is not None:
            return ans, "flexible"
    if marked is not None:
        return marked, "strict"
    if at >= 0:  # the last marker states no single answer: nothing guesses one
        return None, "none"
    got = _last_expression(text, numeric) if fallback else None
    return (got, "flexible") if got is not None else (None, "none")
