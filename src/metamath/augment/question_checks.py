"""Checks that a rewritten question (a rephrasing, an SV question, a FOBAR question) is a clean
question: it gives away no value it should hide (augment/leaks.py), carries no preamble or
commentary, asks nothing new, and keeps the original's conditions. Each failed check is a
rejection reason.

    reason = check_question(rewrite, original, hidden="12", source=masked_question)

Why these checks: with a weak teacher (SmolLM2-135M) the rewrites that passed the old checks
included an SV statement that said "It's actually 42/3 = 12 pages" for x = 12, a rephrasing
that began "You wrote:" and dropped a condition while keeping every number, and statements with
an invented "1. Answer: ... 2. Statement: ..." follow-up (issue 14). The solver's answer check
cannot catch any of them: a leaked value makes the answer easy, not wrong.
"""

from __future__ import annotations

import re

from metamath.augment.leaks import leaks, loose

# -- preamble, commentary, invented follow-ups ------------------------------------------------

_PREAMBLE = re.compile(
    r"^\W*(?:sure|certainly|of course|okay|ok|absolutely|great|alright|here(?:'s| is| are)|"
    r"below is|you wrote|i(?:'ll| will| have|'ve| can| would)|let(?:'s| me| us)|as requested|"
    r"the (?:rephrased|rewritten|declarative)|rephrased|rewritten|a (?:rephrased|rewritten))\b",
    re.IGNORECASE,
)
_COMMENTARY = re.compile(
    r"\b(?:you wrote|note that|note:|explanation|this (?:rephrased|rewritten|version|statement|"
    r"sentence)|in this (?:version|rephrasing|statement)|i (?:changed|replaced|rephrased|kept|"
    r"hope)|hope (?:this|that) helps|let me know|the original (?:question|problem)|"
    r"rephrased (?:question|version)|declarative (?:sentence|statement))\b",
    re.IGNORECASE,
)
# A new turn or block: a label at a line start ("Question:", "Answer 2:", "Statement:"), an
# enumeration ("1." / "2)"), a chat or markdown header.
_TURN = re.compile(
    r"(?:^|\n)\s*(?:(?:question|answer|solution|statement|rephrased question|problem|"
    r"q|a|user|assistant|human|instruction|response|input|output|result)\s*\d*\s*:|\d+[.)]\s|"
    r"#{2,}|<\|)",
    re.IGNORECASE,
)
_INLINE_LABEL = re.compile(
    r"\b(?:question|answer|solution|statement|rephrased question|problem)\s*\d*\s*:", re.I
)


def questions_in(text: str) -> int:
    return text.count("?")


# A short lead-in that ends in a colon: "You wrote:", "In other words:", "New version:".
_LEAD_IN = re.compile(r"^[^\n:.?!]{0,40}:\s")


def style_reason(rewrite: str, original: str) -> str | None:
    """preamble | commentary | follow_up, or None."""
    if _PREAMBLE.match(rewrite) and not _PREAMBLE.match(original):
        return "preamble"
    if _LEAD_IN.match(rewrite) and not _LEAD_IN.match(original):
        return "preamble"
    if _COMMENTARY.search(rewrite) and not _COMMENTARY.search(original):
        return "commentary"
    if _TURN.search(rewrite) and not _TURN.search(original):
        return "follow_up"
    if len(_INLINE_LABEL.findall(rewrite)) > len(_INLINE_LABEL.findall(original)):
        return "follow_up"
    if questions_in(rewrite) > max(1, questions_in(original)):
        return "follow_up"
    return None


# -- conditions ----------------------------------------------------------------------------------

# Words that carry a problem's arithmetic: if the original uses a group, the rewrite must too
# (in any of its forms). Groups, not single words, so that rewording ("each" -> "per") passes.
CONDITION_GROUPS = {
    "half": r"\bhalf\b|\bhalves\b|\b1/2\b|(?<![\d.])0?\.5\b|\b50 ?%|\bfifty percent",
    "double": r"\btwice\b|\bdoubl\w*|\btwo times\b|\b2 times\b",
    "triple": r"\btripl\w*|\bthrice\b|\bthree times\b|\b3 times\b",
    "quarter": r"\bquarters?\b|\b1/4\b|(?<![\d.])0?\.25\b|\b25 ?%|\bone[- ]fourth",
    "percent": r"%|\bpercent\w*|\bper cent\b",
    "each": r"\beach\b|\bevery\b|\bper\b|\bapiece\b|\ba piece\b|\b(?:hour|dai|week|month|year)ly\b|"
    r"\bannual\w*|\ban? (?:hour|day|week|month|"
    r"year|minute|second|piece|item|pound|dozen|box|pack|bag|person|kilogram|kg|mile|meter)\b",
    "more": r"\bmore\b|\badditional\b|\bextra\b|\bincreas\w*|\bgreater\b|\bplus\b|\bhigher\b|"
    r"\blonger\b|\bolder\b|\btaller\b|\bheavier\b|\bfaster\b|\bbigger\b|\blarger\b|\bexceed\w*",
    "less": r"\bless\b|\bfewer\b|\bminus\b|\bdecreas\w*|\breduc\w*|\blower\b|\bshorter\b|"
    r"\byounger\b|\bsmaller\b|\blighter\b|\bslower\b|\bcheaper\b|\bdiscount\w*",
    "not": r"\bnot\b|n't\b|\bnever\b|\bwithout\b|\bexcept\b|\bnone\b|\bno\b",
    "left": r"\bleft\b|\bremain\w*|\brest\b|\bleftover\w*|\bstill\b",
}
_CONDITIONS = {k: re.compile(v, re.IGNORECASE) for k, v in CONDITION_GROUPS.items()}
_CURRENCY = {"$": r"\$|\bdollars?\b|\bbucks?\b", "€": r"€|\beuros?\b", "£": r"£|\bpounds?\b"}
_SKIP_AFTER_NUMBER = set(
    "of a an the more less fewer extra additional other different new each per every in on at "
    "for to and or her his their its my your our whole full total equal same small large big "
    "little times as than by with from into out up over about did does do is are was were will "
    "would can could should has have had".split()
)


def lemma(w: str) -> str:
    w = w.lower()
    for suf in ("ies", "es", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: -len(suf)] + ("y" if suf == "ies" else "")
    return w


def plain_text(text: str, kind: str) -> str:
    """The text with MATH formulas blanked (their words are LaTeX commands, not units)."""
    if kind != "math":
        return text
    from metamath.augment.backward import math_regions

    out = list(text)
    for o, _cs, _ce, e in math_regions(text):
        out[o:e] = " " * (e - o)
    return "".join(out)


def quantity_units(text: str) -> list[set[str]]:
    """For each number in the text, the lemmas of the (at most two) content words after it:
    '48 of her friends' -> {'friend'}; '50 minutes' -> {'minute'}; '$12 an hour' -> {'hour'}."""
    out = []
    for m in re.finditer(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", text):
        words = re.findall(r"[A-Za-z]+", text[m.end() : m.end() + 60])[:5]
        content = [lemma(w) for w in words if w.lower() not in _SKIP_AFTER_NUMBER and len(w) > 2]
        if content:
            out.append(set(content[:2]))
    return out


def asked_for(original: str) -> str | None:
    """The thing a 'How many X ...' question asks for (its lemma), or None."""
    m = re.search(r"\bhow many((?:\s+[A-Za-z]+){1,3})", original, re.IGNORECASE)
    for w in m.group(1).split() if m else []:
        if w.lower() not in _SKIP_AFTER_NUMBER:
            return lemma(w)
    return None


def condition_reason(rewrite: str, original: str, kind: str = "gsm8k") -> str | None:
    """condition_lost | unit_lost | target_changed | math_changed, or None."""
    if kind == "math":
        new = loose(rewrite).replace("{", "").replace("}", "")
        from metamath.augment.backward import math_regions

        for _o, cs, ce, _e in math_regions(original):
            body = loose(original[cs:ce]).replace("{", "").replace("}", "")
            if body and body not in new:
                return "math_changed"
    original, rewrite = plain_text(original, kind), plain_text(rewrite, kind)
    for pat in _CONDITIONS.values():
        if pat.search(original) and not pat.search(rewrite):
            return "condition_lost"
    for sym, pat in _CURRENCY.items():
        if sym in original and not re.search(pat, rewrite, re.IGNORECASE):
            return "unit_lost"
    have = {lemma(w) for w in re.findall(r"[A-Za-z]+", rewrite)}
    for units in quantity_units(original):
        if not any(u in have or any(h.startswith(u) for h in have) for u in units):
            return "unit_lost"
    target, asked = asked_for(original), asked_for(rewrite)
    if target and (
        (asked and asked != target)
        or (target not in have and not any(h.startswith(target) for h in have))
    ):
        return "target_changed"
    return None


def check_question(
    rewrite: str,
    original: str,
    *,
    hidden: str | None = None,
    source: str | None = None,
    conditions: bool = True,
    kind: str = "gsm8k",
) -> str | None:
    """The first reason the rewrite is not a clean question, or None.

    hidden: a value the rewrite must not state beyond `source` (default: the original): the
    gold answer for a rephrasing, the masked value for SV and FOBAR questions. conditions:
    also demand the original's conditions (rephrasings; a masked question keeps them by
    construction)."""
    if hidden is not None and leaks(rewrite, hidden, original if source is None else source):
        return "leak"
    reason = style_reason(rewrite, original)
    if reason:
        return reason
    return condition_reason(rewrite, original, kind) if conditions else None
