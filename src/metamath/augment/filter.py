"""Keep only correct samples, and write their answer line the MetaMathQA way.

    ok, reason, extracted = judge(text, target="72", task="gsm8k", finish_reason="stop")
    response = format_response(text, "72", kind="gsm8k")   # "...\\n#### 72\\nThe answer is: 72"

Grading goes through metamath.answers (the same grader the evaluation uses). Rejection reasons:
the grader's (mismatch, no_answer, timeout, error, too_long), plus "truncated" (the reply hit
max_tokens: its last line cannot be trusted) and "no_reasoning" (nothing but an answer line,
the degenerate SV rows of the release; method reference 1.6).

A kept reply must also be a solution, not a lucky guess: every equation in its reasoning holds
("16 * 10 = 16" is an "arithmetic_error") and the reasoning itself reaches the answer (an answer
that appears only on the final line is an "unsupported_answer").

Run-on: a reply is first cut at the first question or turn the model invents after its
solution (cut_run_on), so an answer is never read from a made-up follow-up problem.

Answer-line format (method reference 1.7, paper App. B, [data]): the teacher's own final
"The answer is ..." / "####" lines are replaced; GSM8K-derived rows end "#### a" then
"The answer is: a"; MATH rows keep their \\boxed{} and end "The answer is: a". Backward rows
keep their "The value of x is N." line before those.
"""

from __future__ import annotations

import re
from fractions import Fraction

from metamath.answers import grade
from metamath.augment.leaks import evaluate, value_forms

_ANSWER_LINE = re.compile(
    r"^\s*(?:####.*|(?:so,?\s+)?(?:the\s+)?(?:final\s+)?answer\s*(?:is)?\s*:.*"
    r"|the answer is\b.*)$",
    re.IGNORECASE,
)
MIN_REASONING_CHARS = 12


# A new turn or problem the model invents after its solution: a label at a line start
# ("Question:", "Q2:", "Problem:", "User:", "### Instruction"), a chat-template tag.
_NEW_TURN = re.compile(
    r"^[ \t]*(?:(?:question|q|problem|user|human|instruction|rephrased question|statement|"
    r"example|exercise)[ \t]*\d*[ \t]*[:.)]|#{2,}[ \t]|<\|)",
    re.IGNORECASE | re.MULTILINE,
)
_FINAL_LINE = re.compile(
    r"^.*(?:the answer is\b|####|the value of (?:unknown variable )?\$?[xX]\$? is\b).*$",
    re.IGNORECASE | re.MULTILINE,
)


def cut_run_on(text: str) -> str:
    """The solution without what a model invents after it: cut at the first new turn or
    question block, and after the first answer line when a new question follows it."""
    m = _NEW_TURN.search(text)
    if m and text[: m.start()].strip():
        text = text[: m.start()]
    a = _FINAL_LINE.search(text)
    if a and "?" in text[a.end() :]:
        text = text[: a.end()]
    return text.rstrip()


def strip_answer_lines(text: str) -> str:
    """The reply without its trailing answer lines ("The answer is: 5", "#### 5")."""
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _ANSWER_LINE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).rstrip()


def _reasoning(body: str) -> str:
    """What is left once the backward "The value of x is N." line is also set aside."""
    return re.sub(
        r"the value of (?:unknown variable )?\$?[xX]\$? is[^\n]*$", "", body, flags=re.IGNORECASE
    ).strip()


def judge(
    text: str,
    target: str,
    task: str,
    finish_reason: str = "stop",
    mode: str = "flexible",
    timeout: float = 2.0,
) -> tuple[bool, str, str | None]:
    """(kept?, reason, extracted answer) for one sampled reply. Its answer must be stated (an
    answer line, a marker or a box): flexible mode's last-expression guess, which scores a
    reply in an evaluation, never makes a training row (a reply of noise that happens to
    contain the gold's digits would pass it)."""
    g = grade(text, target, task, mode=mode, timeout=timeout, fallback=False)
    if finish_reason == "length" and (g.correct or g.reason == "no_answer"):
        return False, "truncated", g.extracted  # cut off at max_tokens, before or after its answer
    if not g.correct:
        return False, g.reason, g.extracted
    reasoning = _reasoning(strip_answer_lines(text))
    if len(reasoning) < MIN_REASONING_CHARS:
        return False, "no_reasoning", g.extracted
    if task != "math" and arithmetic_error(reasoning):  # MATH's notation (f(3) = ..., a \\star b)
        return False, "arithmetic_error", g.extracted  # is not plain arithmetic: not checked
    if not value_forms(reasoning, target):
        return False, "unsupported_answer", g.extracted
    return True, "correct", g.extracted


# Runs of arithmetic characters with "=" (one character class: linear matching, see leaks.py).
_CHAIN = re.compile(r"[0-9$.,%+\-*/×÷^() x=]+")


def _latex_arithmetic(text: str) -> str:
    """LaTeX operators as plain ones (MATH solutions write 3\\cdot 4 and \\frac{a}{b})."""
    text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", text)
    for cmd, op in (("cdot", "*"), ("times", "*"), ("div", "/")):
        text = re.sub(rf"\\{cmd}(?![a-zA-Z])", f" {op} ", text)
    return re.sub(r"\\(?:left|right)(?![a-zA-Z])", "", text)


def arithmetic_error(reasoning: str) -> str | None:
    """The first equation of the reasoning that does not hold ("16 * 10 = 16"), or None.

    A reply whose final answer matches the gold by luck after wrong steps is not a solution:
    with SmolLM2-135M as the teacher, both rows kept from 30 seeds had such steps. Each side
    with an operator is evaluated exactly (augment.leaks.evaluate, bounded, never eval());
    a side that is one number is compared to it, within the rounding its decimals allow.
    Measured on the GSM8K train reference solutions: 29 of 7,473 flagged, most of them real
    slips in the dataset ("8*3 = 240", "$4200+$3000 = $8600")."""
    text = _latex_arithmetic(reasoning[:20000])
    for m in _CHAIN.finditer(text):
        # one run may hold several equations: "48/2 = 24, 48 + 24 = 72", "1+1=2 2+2=4"
        cursor = m.start()
        for seg in re.split(r",\s+|;|(?<=[\d)])\s+(?=[$\d(])", m.group(0)):
            bad = _chain_error(text, cursor, seg)
            cursor += len(seg)
            if bad:
                return bad
    return None


def _chain_error(text: str, offset: int, seg: str) -> str | None:
    g = seg.strip().rstrip(".,")
    if g.startswith(".") and not g[1:2].isdigit():
        g = g[1:].strip()
    if "=" not in g or not re.search(r"\d", g):
        return None
    start = text.find(g, offset)
    end = start + len(g)
    pieces = [p.strip() for p in g.split("=")]
    # A side that continues beyond the run is only part of its expression and is not
    # compared: "S + 143 = ...", "8 x 1 1/2 = 12" (a mixed number), "50(2) = 100",
    # ".5*2 = 1", "= 5A/5", "= 25%". Times ("0900-0130") are not arithmetic.
    before, after = text[:start].rstrip(), text[end:]
    glued = text[max(0, start - 1) : start]
    mixed = re.search(r"\d\s+$", text[:start]) and re.match(r"\d+/\d+", g)  # "1 1/2"
    if (
        (before and before[-1] in "+-*/×÷^(.\\{}_")
        or glued.isalpha()
        or glued.isdigit()
        or mixed
        or re.search(r"(?:\b(?:x|times|of|by|and)|×)$", before)
    ):
        pieces = pieces[1:]
    if (
        after[:1].isalpha()
        or after[:1] in ("(", ".", ",")
        and after[1:2].isdigit()
        or after.lstrip()[:1] in set("+-*/×÷^%(\\{}_!")
        or re.match(r"\s*(?:and\s+\(?\d|\d{3}\b)", after)
    ):
        pieces = pieces[:-1]
    if re.search(r"(?<![\d.])0\d", g) or any("%" in p for p in pieces) or len(pieces) > 12:
        return None
    values = []
    for p in pieces:
        v = evaluate(p)
        if v is None:
            break
        values.append((v, p))
    if len(values) < 2 or not any(re.search(r"\d\s*[-+*/×÷^x]\s*\(*\$?\d", p) for _, p in values):
        return None
    for (a, pa), (b, pb) in zip(values, values[1:], strict=False):
        decimals = max(len(d) for d in re.findall(r"\.(\d+)", pa + " " + pb) or [""])
        if abs(a - b) > Fraction(1, 2 * 10**decimals) + abs(b) * Fraction(1, 10**6):
            return g
    return None


def format_response(text: str, answer: str, kind: str) -> str:
    """The MetaMathQA response: the reasoning, then the normalised answer line(s)."""
    body = strip_answer_lines(text)
    if kind == "gsm8k":
        return f"{body}\n#### {answer}\nThe answer is: {answer}"
    return f"{body}\nThe answer is: {answer}"


def grade_task(kind: str, technique: str) -> str:
    """The grader's task for a candidate: numeric GSM8K answers (backward ones read "The value
    of x is"), or LaTeX MATH answers."""
    if kind == "gsm8k":
        return "gsm8k_backward" if technique in ("fobar", "self_verification") else "gsm8k"
    return "math"
