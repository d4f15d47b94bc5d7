"""Self-Verification (SV): split a masked question, check the teacher's declarative rewrite.

    base, sentence = split_question(masked_question)
    statement, reason = check_statement(reply, sentence, gold, var="x")   # reason None = ok
    query = sv_question(base, statement, var)      # prompts.augment: "... What is the value of
                                                   #  unknown variable x?"

Why not the original's "last period after replacing commas" split (method reference 1.6): it
cuts "$2.50" in two, and on questions that end with a period ("Find ...", "Compute ...") it
returns an empty question sentence, so the teacher echoes "The answer is 10." and the SV
question states its own answer (seen in the released MATH_SV rows). Here sentences end at
. ? ! followed by space and a capital (or the end), never inside a number, an abbreviation or a
formula, the question sentence is never empty, trailing format instructions ("Express your
answer as a common fraction.") are set aside, and a statement is rejected unless it is one
declarative sentence that carries the answer, does not say "The answer is", keeps the
sentence's numbers and adds none, computes nothing, and does not give away the masked value in
any form ("It's actually 42/3 = 12 pages" for x = 12: augment/question_checks.py).
"""

from __future__ import annotations

import re

from metamath.augment.backward import math_regions, normalise_number
from metamath.augment.leaks import leaks
from metamath.augment.question_checks import style_reason

_ABBREV = (
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "approx",
    "no",
    "jr",
    "sr",
    "ft",
    "in",
    "oz",
    "lb",
    "lbs",
    "min",
    "hr",
    "hrs",
    "sq",
    "mt",
    "ave",
    "p.m",
    "a.m",
)
_END = re.compile(r"[.?!](?=[\"')\]]*(?:\s+|$))")
_INSTRUCTION = re.compile(
    r"^(?:Express|Give|Enter|Round|Write|Simplify your|Your answer|Answer in|Leave your|"
    r"If there are|Separate|List|Include|\(?Note)",
    re.IGNORECASE,
)
_ANSWER_PHRASE = re.compile(
    r"\bthe\s+(?:final\s+|correct\s+)?answer\b[^.?!]{0,40}?\bis\b", re.IGNORECASE
)
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d*\.?\d+(?:/\d+)?")


def sentences(text: str, kind: str = "gsm8k") -> list[str]:
    """Split into sentences; decimals, abbreviations and (MATH) formulas never end one.
    In GSM8K text "$" is a currency sign, not a math delimiter."""
    regions = math_regions(text) if kind == "math" else []
    out, start = [], 0
    for m in _END.finditer(text):
        i = m.start()
        if any(o <= i < e for o, _, _, e in regions):
            continue
        word = re.search(r"([\w.]+)$", text[start:i])
        if text[i] == "." and word and word.group(1).lower() in _ABBREV:
            continue
        rest = text[m.end() :].lstrip(" \t\"')]")
        if rest and rest[0].islower():
            continue  # "approx. three", "i.e. two": not a sentence end
        j = m.end()
        while j < len(text) and text[j] in "\"')]":
            j += 1
        out.append(text[start:j].strip())
        start = j
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def split_question(question: str, kind: str = "gsm8k") -> tuple[str, str] | None:
    """(base text, question sentence), or None when there is nothing to split.

    The question sentence is the last sentence that is not a format instruction; the
    instructions after it are dropped (the statement carries the answer, so "Express your
    answer as a fraction" no longer applies)."""
    sents = sentences(question, kind)
    while len(sents) > 1 and _INSTRUCTION.match(sents[-1]):
        sents.pop()
    if not sents:
        return None
    return " ".join(sents[:-1]), sents[-1]


def _loose(s: str) -> str:
    return re.sub(r"[\s$]|\\[,!;: ]|\\left|\\right", "", s).replace("dfrac", "frac")


def carries_answer(statement: str, gold: str) -> bool:
    """Does the statement state the gold answer (as a number, or as its LaTeX)?"""
    g = gold.replace(",", "").strip()
    if _NUMBER.fullmatch(g):
        want = normalise_number(g.lstrip("-"))
        got = {normalise_number(m.group(0).lstrip("-")) for m in _NUMBER.finditer(statement)}
        return want in got
    return _loose(gold) in _loose(statement)


def clean_statement(reply: str) -> str:
    text = re.split(r"\n\s*(?:Question|Answer|Statement)\s*:", reply, maxsplit=1)[0]
    text = re.sub(r"^\s*(?:statement|result)\s*:\s*", "", text, flags=re.IGNORECASE)
    return " ".join(text.split())


_QUESTION_WORDS = set(
    "how many much what which who whom whose when where why does did do is are was were will "
    "would can could should the a an of in on at to for and or if then than that this these "
    "those with from by as be been has have had his her their its there value find".split()
)


def content_lost(sentence: str, statement: str, kind: str = "gsm8k") -> bool:
    """Does the statement drop what the question asks about? Half of the question sentence's
    content words (and a "how many X" target) must survive: "The answer to this question is 7"
    says nothing about "How many letters are in Samantha's last name?"."""
    from metamath.augment.question_checks import asked_for, lemma, plain_text

    words = lambda t: {  # noqa: E731
        lemma(w)
        for w in re.findall(r"[A-Za-z]{3,}", plain_text(t, kind))
        if w.lower() not in _QUESTION_WORDS
    }
    want, have = words(sentence), words(statement)
    kept = {w for w in want if w in have or any(h.startswith(w) or w.startswith(h) for h in have)}
    target = asked_for(sentence)
    every = {lemma(w) for w in re.findall(r"[A-Za-z]+", statement)}
    return (target is not None and target not in every) or len(kept) < len(want) / 2


def check_statement(
    reply: str | None,
    sentence: str,
    gold: str,
    var: str,
    value: str | None = None,
    question: str | None = None,
    kind: str = "gsm8k",
) -> tuple[str, str | None]:
    """(cleaned statement, rejection reason or None).

    value: the masked value, which the statement must not give away (in any form) beyond what
    the masked `question` plus the gold already state. The statement is the question sentence
    said as a fact: one sentence, no reasoning or arithmetic, no number of its own but the gold."""
    st = clean_statement(reply or "")  # a run-on into a new "Question:" block is cut off
    if not st:
        return st, "empty"
    reason = style_reason(st, sentence)
    if reason:
        return st, reason
    if len(st) > 2 * len(sentence) + 60:
        return st, "too_long"
    if len(sentences(st, kind)) > 1:
        return st, "extra_text"
    if value is not None and leaks(st, value, f"{question or sentence} {gold}"):
        return st, "leak"
    if "=" in st and "=" not in sentence:
        return st, "computation"
    if _ANSWER_PHRASE.search(st):
        return st, "answer_phrase"
    if " ".join(sentence.split()) == st:
        return st, "unchanged"
    if st.rstrip().endswith("?"):
        return st, "still_question"
    if re.search(rf"(?<![A-Za-z\\]){var}(?![A-Za-z])", sentence) and not re.search(
        rf"(?<![A-Za-z\\]){var}(?![A-Za-z])", st
    ):
        return st, "variable_lost"
    if not carries_answer(st, gold):
        return st, "answer_missing"
    if content_lost(sentence, st, kind):
        return st, "content_lost"
    from metamath.augment.rephrase import numbers

    allowed = numbers(sentence) | numbers(gold)
    if numbers(st) - allowed - {"1"}:
        return st, "numbers_changed"
    if numbers(sentence) - numbers(st) - {"1"}:
        return st, "numbers_lost"
    return st, None
