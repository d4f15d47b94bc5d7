"""Rephrasing: check the teacher's rewrite of a question before it is solved.

    text, reason = check_rephrasing(original, reply)   # reason None = accepted

The original stored whatever came back, an empty string from a failed request included, and
checked nothing but the final answer (method reference 1.3). Here a rephrasing is rejected,
with the reason recorded, when it is empty, a copy of the original, or when it loses a number
of the question or brings in a new one (the solver's answer check alone lets through
rephrasings that change the problem but happen to keep the answer). Accepted rephrasings are
then solved like AnsAug and kept only when the answer equals the ORIGINAL gold. It must also
be a clean question (augment/question_checks.py): no preamble or commentary ("You wrote:",
"Sure! Here is"), no invented follow-up, the answer not given away, and the original's
conditions kept (its comparatives, fractions, units and what it asks for), not only its
numbers.
"""

from __future__ import annotations

import re

from metamath.augment.backward import normalise_number
from metamath.augment.leaks import TENS, UNITS, leaks
from metamath.augment.question_checks import check_question

_DIGITS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.?\d+")
_WORD_VALUES = {
    **{k: v for k, v in UNITS.items() if v},
    **TENS,
    "hundred": 100,
    "thousand": 1000,
    "dozen": 12,
}
_WORDS = re.compile(r"\b(" + "|".join(_WORD_VALUES) + r")\b", re.IGNORECASE)
_ECHO = re.compile(r"^\s*(?:rephrased question|rephrase(?:d)?|question)\s*:\s*", re.IGNORECASE)
# The reply ends where a model that keeps going starts a new block.
_RUN_ON = re.compile(r"\n\s*(?:Question|Answer|Rephrased question)\s*:", re.IGNORECASE)
# "one" is too often not a quantity ("each one", "one of") to demand that it survives.
_SOFT = {"1"}


def numbers(text: str) -> set[str]:
    """The set of numeric values in a text: digits (1,000 = 1000; 2.50 = 2.5) and number words
    (five = 5), so "five" rephrased as "5" keeps the number."""
    out = {normalise_number(m.group(0)) for m in _DIGITS.finditer(text)}
    out |= {str(_WORD_VALUES[m.group(1).lower()]) for m in _WORDS.finditer(text)}
    return out


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def clean_reply(reply: str) -> str:
    """The rephrased question out of the teacher's reply: echo labels, quotes and run-on off."""
    text = _RUN_ON.split(reply, 1)[0]
    text = _ECHO.sub("", text).strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def check_rephrasing(
    original: str, reply: str | None, gold: str | None = None, kind: str = "gsm8k"
) -> tuple[str, str | None]:
    """(cleaned rephrasing, rejection reason or None). gold: the answer, which the rephrasing
    must not state (beyond what the original states); kind: gsm8k | math."""
    text = clean_reply(reply or "")
    if not text:
        return text, "empty"
    if _norm(text) == _norm(original):
        return text, "copy"
    if len(text) > 2 * len(original) + 80:
        return text, "too_long"
    if gold is not None and leaks(text, gold, original):
        return text, "leak"
    orig, new = numbers(original), numbers(text)
    if (orig - new) - _SOFT:
        return text, "numbers_lost"
    if (new - orig) - _SOFT:
        return text, "numbers_changed"
    return text, check_question(text, original, kind=kind)
