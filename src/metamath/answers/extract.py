"""Final-answer extraction for every convention MetaMath data and models use.

    extract("... The answer is: 18", task="gsm8k")                  -> "18"
    extract("... so $\\boxed{\\frac{1}{2}}$.", mode="flexible")      -> "\\frac{1}{2}"

Strict mode reads only explicit answer markers, the last one in the text wins:
  "The answer is: X" / "The answer is X"  (MetaMath responses, AnsAug demos; method ref. 1.2, 4.2)
  "The value of x is X" / "The value of $X$ is X"  (FOBAR / SV responses; method ref. 1.5)
  "#### X"  (GSM8K reference solutions)
  "The final answer is X"  (the Minerva / lm-evaluation-harness convention)
Flexible mode falls back to the last \\boxed{} (MATH convention), then the last number.

GSM8K-style tasks keep the first number after the marker (as eval_gsm8k.py does) but never
round it (the original rounds, so 17.6 passes for 18), and read "1,234,567" whole (the original
stops at the second comma). Every scan is linear: adversarial 5 MB strings cost one pass.
"""

from __future__ import annotations

import re

from metamath.answers.boxed import last_boxed, last_boxed_at

TASKS = ("gsm8k", "math", "gsm8k_backward")
MODES = ("strict", "flexible")
NUMERIC_TASKS = ("gsm8k", "gsm8k_backward")

# Marker regexes; matched case-insensitively, the last match in the text wins.
_MARKERS = re.compile(
    r"the (?:final )?answer is\s*:?|"
    r"the value of (?:the unknown variable |unknown variable )?\$?\\?[xX]\$? is\s*:?|"
    r"####",
    re.IGNORECASE,
)
# A number as written in model text: thousands groups (1,234,567), decimals, simple fractions.
NUMBER = re.compile(
    r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]\d)"  # 1,234,567.5 (a full group pattern only)
    r"|[-−]?\d+(?:\.\d+)?(?:/\d+(?:\.\d+)?)?"  # 12, 12.5, 3/4
    r"|[-−]?\.\d+"  # .5
)
_SPAN = 4096  # an answer line longer than this is not an answer line
_TAIL = 4096  # the last-number fallback looks at the tail first (linear, and cheap on 5 MB text)


def _after_last_marker(text: str) -> tuple[str | None, int]:
    """(text after the last answer marker up to the end of its line, index where that text
    ends); (None, -1) without a marker."""
    last = None
    for m in _MARKERS.finditer(text):
        last = m
    if last is None:
        return None, -1
    window = text[last.end() : last.end() + _SPAN]
    rest = window.lstrip()
    skipped = len(window) - len(rest)
    # "The answer is:\n42": the answer may sit on the next line. A matrix or a brace group
    # that opens on this line runs on until it closes.
    lines = rest.split("\n")
    line = lines[0]
    for more in lines[1:]:
        if line.count("{") <= line.count("}") and line.count("\\begin") <= line.count("\\end"):
            break
        line += "\n" + more
    return line.strip() or None, last.end() + skipped + len(line)


def _clean_latex_answer(seg: str) -> str | None:
    """A MATH answer span: inner \\boxed{} content if any, math delimiters and final period off."""
    boxed = last_boxed(seg) if "\\boxed" in seg or "\\fbox" in seg else None
    if boxed is not None:
        seg = boxed
    seg = seg.strip()
    # "$\frac{1}{2}$ because ...": the answer is the math span the line opens with.
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)")):
        end = seg.find(right, len(left)) if seg.startswith(left) else -1
        if end > len(left):
            seg = seg[: end + len(right)]
            break
    # "$\frac{1}{2}$." or "\(x\)": drop delimiters around the whole answer.
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if seg.startswith(left) and seg.endswith(right) and len(seg) >= len(left) + len(right):
            seg = seg[len(left) : len(seg) - len(right)].strip()
            break
    while seg.endswith((".", "。")) and not seg.endswith(".."):
        seg = seg[:-1].rstrip()
    if seg.startswith("$") and seg.endswith("$") and len(seg) > 1:
        seg = seg.strip("$").strip()
    if seg.replace("\\$", "").count("$") == 1:  # "5$" left over from "$5$ dollars."
        seg = seg.replace("\\$", "\x00").replace("$", "").replace("\x00", "\\$").strip()
    return seg or None


_WORD = re.compile(r"(?<![\\A-Za-z])[a-z]{3,}\b")


def _is_prose(ans: str) -> bool:
    """A sentence rather than an answer: 4+ lowercase words and no math at all."""
    return not re.search(r"[\\$^_{}=\d]", ans) and len(_WORD.findall(ans)) >= 4


def first_number(seg: str) -> str | None:
    """First number in a span, commas of thousands groups removed, unicode minus mapped."""
    m = NUMBER.search(seg)
    return None if m is None else _clean_number(m.group(0))


def last_number(text: str) -> str | None:
    """Last number in the text (tail window first, so a long text stays cheap)."""
    for window in (text[-_TAIL:], text) if len(text) > _TAIL else (text,):
        last = None
        for m in NUMBER.finditer(window):
            last = m
        if last is not None:
            return _clean_number(last.group(0))
    return None


def _clean_number(s: str) -> str:
    s = s.replace("−", "-").replace(",", "")
    return s.rstrip("/")


def _numeric_from_span(seg: str) -> str | None:
    """GSM8K-style answer span -> a number string. A boxed or \\frac answer is kept as LaTeX."""
    inner = last_boxed(seg) if "\\boxed" in seg else None
    if inner is not None:
        seg = inner
    frac = re.search(r"-?\s*\\[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}", seg)
    num = NUMBER.search(seg)
    if frac is not None and (num is None or frac.start() <= num.start()):
        return frac.group(0).replace(" ", "")
    return None if num is None else _clean_number(num.group(0))


def extract(text: str | None, mode: str = "strict", task: str = "math") -> str | None:
    """The final answer in a completion, or None.

    mode: "strict" (explicit markers only) or "flexible" (markers, then last \\boxed{}, then the
    last number). task: "gsm8k"/"gsm8k_backward" (the answer is a number) or "math" (LaTeX).
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}")
    if task not in TASKS:
        raise ValueError(f"task={task!r}: use one of {TASKS}")
    if not text:
        return None
    got, _ = extract_with_source(text, mode, task)
    return got


def extract_with_source(text: str, mode: str, task: str) -> tuple[str | None, str]:
    """(answer, which rule found it: "strict" | "flexible" | "none")."""
    numeric = task in NUMERIC_TASKS
    seg, at = _after_last_marker(text)
    marked = None
    if seg is not None:
        marked = _numeric_from_span(seg) if numeric else _clean_latex_answer(seg)
        if marked is not None and not numeric and _is_prose(marked):
            marked = None  # "the final answer is positive, because ...": a sentence, not an answer
    if mode == "strict":
        return (marked, "strict") if marked is not None else (None, "none")
    # Flexible: a \boxed{} that comes after the last marker is the more final answer ("... the
    # answer is NOT a multiple of 3 ... so $\boxed{42}$").
    box = last_boxed_at(text)
    if marked is not None and (box is None or box[1] < at):
        return marked, "strict"
    if box is not None:
        ans = _numeric_from_span(box[0]) if numeric else _clean_latex_answer(box[0])
        if ans is not None:
            return ans, "flexible"
    if marked is not None:
        return marked, "strict"
    num = last_number(text)
    return (num, "flexible") if num is not None else (None, "none")
