"""Answer markers: where a completion states its final answer, and the span that answer fills.

    marked_spans("... So the answer is 12. We are done.")          -> ["12"]
    marked_spans("The answer is:\\n\\[\\n\\boxed{6}\\n\\]")         -> ["\\[\\n\\boxed{6}\\n\\]"]

The vocabulary (matched case-insensitively: casing says nothing about whether a model stated an
answer, and the paper's exact-case "The answer is: " check measured formatting, not maths):
  phrases, anywhere:  "the answer is", "the final answer is", "my final answer is", "the value
      of (the unknown variable) x is" (FOBAR/SV), and other languages' "the answer is"
      ("la respuesta es", "la réponse est", "die Antwort ist/lautet", "a resposta é", "答案是")
  labels, at the start of a line (after markdown "#", "**", "-", ">"), after a sentence, or in
      \\text{...}:  "Answer:", "Final answer:", "Final result:", "**Answer:**", "### Final Answer"
      (a heading alone on its line: the answer is on the next lines), "\\text{Answer: }", and
      "Answer:" in other languages (Ответ, Respuesta, Réponse, Antwort, Risposta, Resposta, Jibu,
      答案, 答, 解答, 정답, 답, उत्तर, উত্তর, คำตอบ, Đáp án, Απάντηση, الإجابة, Cevap, Jawaban, ...)
  "#### X": GSM8K's marker, but not a markdown heading ("#### Step 2: ...", "#### 1. Setup").
  structured: a JSON field '"answer": "X"' (its string value, escapes decoded) and the R1-Zero
      tags "<answer> X </answer>".
The span after a marker is the rest of its line (extract.py and numeric.py read the sentence
they need from it), or a math block: "$$...$$", "\\[...\\]", "\\begin{...}...\\end{...}", also when
it opens on the next line. Spans are tried from the last marker back, so a trailing marker with
nothing after it ("####" cut off, "the final answer is within \\boxed{}") hides nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

# After an answer's value: a second value offered in its place ("18 or 20", "18 to 20 dollars",
# "18 apples or 20 pears", "18 (or maybe 20)", "18, and 20"): a hedge, not one answer. Matched
# on the text right after the first value; the lookahead needs the second value's digit.
ALTERNATIVE = re.compile(
    r"[ \t]*(?:[^\W\d_]+[ \t]+){0,2}?[,(]?[ \t]*(?:or|to|and)[ \t]+"
    r"(?:(?:maybe|perhaps|possibly|even|about|approximately)[ \t]+)?(?=[-+]?\$?[ \t]*\d)",
    re.IGNORECASE,
)

_LABEL_WORDS = (
    r"final\s+answer|answer|final\s+result|ответ|відповідь|respuesta(?:\s+final)?|"
    r"r[ée]ponse(?:\s+finale)?|antwort|risposta|resposta|antwoord|odpowied[źz]|odpov[ěe]ď|"
    r"svar|vastaus|v[áa]lasz|cevap|jawaban|jawapan|jibu|trả\s+lời|đáp\s+án|απάντηση|"
    r"الإجابة|الجواب|תשובה|उत्तर|जवाब|উত্তর|คำตอบ|సమాధానం|答案|答|解答|回答|最终答案|정답|답"
)
_PHRASES = (
    r"(?:\b(?:the|my)\s+(?:final\s+|correct\s+)?answer\s+is\b|\bfinal\s+answer\s+is\b)"
    r"(?!\s+(?:correct|right|wrong|incorrect|indeed|not)\b)|"  # "so the answer is correct"
    r"\bthe\s+value\s+of\s+(?:the\s+unknown\s+variable\s+|unknown\s+variable\s+)?\$?\\?x\$?\s+is\b|"
    r"\bla\s+respuesta\s+(?:final\s+|correcta\s+)?es\b|\bla\s+r[ée]ponse\s+(?:finale\s+)?est\b|"
    r"\bdie\s+(?:endg[üu]ltige\s+|richtige\s+)?antwort\s+(?:ist|lautet)\b|"
    r"\b(?:ist|lautet)\s+die\s+(?:endg[üu]ltige\s+|richtige\s+)?antwort\b|"
    r"\ba\s+resposta\s+(?:final\s+)?[ée]\b|答案(?:是|为)"
)
# A label opens a line (after markdown decoration), follows a sentence, or sits in \text{...}.
_ANCHOR = r"(?:^|(?<=\n)|(?<=[.!?。]\s)|(?<=\\text\{)|(?<=\\textbf\{)|(?<=\\mathrm\{))"
_LABEL = (
    rf"{_ANCHOR}[ \t>#*_\-]*(?:\\text(?:bf)?\{{\s*)?(?:{_LABEL_WORDS})"
    r"(?:\s*(?:\*\*|__))?(?:\s*[:：]|(?=[ \t*#]*(?:\n|$)))"
)
# GSM8K's marker; "#### Step 2: ..." and "#### 1. Setup" are markdown headings.
_HASHES = r"(?<!#)####(?!#)(?![ \t]*(?:[^\W\d_]|\d+[.)][ \t]+[^\W\d_]))"
# Structured answers: a JSON "answer" field (models asked to reply in JSON) and the R1-Zero
# "<answer> ... </answer>" tags.
_FIELD = r'"(?:final[ _])?answer"\s*:\s*|<answer>'
# The group that matched is the marker's kind (what follows it is read by its kind: reading.py).
MARKERS = re.compile(
    rf"(?P<phrase>{_PHRASES})|(?P<label>{_LABEL})|(?P<hashes>{_HASHES})|(?P<field>{_FIELD})",
    re.IGNORECASE | re.MULTILINE,
)
# Every marker contains one of these words: found first in the lowercased text (a plain
# alternation runs ~25x faster than MARKERS with IGNORECASE), then MARKERS runs around them.
_KEYS = re.compile(rf"answer|value|####|{_LABEL_WORDS}|respuesta|r[ée]ponse|antwort|resposta")
_KEYS_ANY_CASE = re.compile(_KEYS.pattern, re.IGNORECASE)
_BEFORE, _AFTER = 64, 96  # how far a marker reaches before / after its key word
_CHUNK = 8192  # windows around nearby key words merge up to this size

SPAN = 4096  # an answer span longer than this is not an answer
MAX_TRIES = 32  # markers tried from the last back (bounds the work on adversarial text)
_OPEN = re.compile(r"\$\$|\\\[|\\\(|\$|\\begin\{([A-Za-z*]+)\}")
_JSON_STR = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LEAD = re.compile(r"[ \t]*(?:[:：][ \t]*)?(?:(?:\*\*|__|\}|\*)[ \t]*)*(?:[:：][ \t]*)?")


def _math_block(text: str, i: int, limit: int) -> int | None:
    """End index of the math span opening at text[i] ($$, \\[, \\(, $, \\begin{env}), or None."""
    m = _OPEN.match(text, i, limit)
    if m is None:
        return None
    tok = m.group(0)
    close = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}.get(tok)
    if close is None:
        close = f"\\end{{{m.group(1)}}}"
    j = m.end()
    while True:
        k = text.find(close, j, limit)
        if k < 0:
            return None
        if close == "$" and text[k - 1] == "\\":  # an escaped \$ inside the span
            j = k + 1
            continue
        if close == "$" and "\n\n" in text[i:k]:
            return None  # a lone "$" (currency) is not a math span across paragraphs
        return k + len(close)


def _line_end(text: str, i: int, limit: int) -> int:
    """End of the answer line from i: a brace or \\begin group opened on it runs on."""
    depth = 0
    j = i
    while j < limit:
        c = text[j]
        if c == "\\" and text.startswith(("\\{", "\\}"), j):
            j += 2
            continue
        if c == "{" or text.startswith("\\begin", j):
            depth += 1
        elif (c == "}" or text.startswith("\\end", j)) and depth > 0:
            depth -= 1
        elif c == "\n" and depth == 0:
            return j
        j += 1
    return limit


def sentence_end(s: str) -> int:
    """Index where the first sentence of s ends: a '.' or '。' followed by a space or the end,
    outside $...$ and braces (so 3.5, \\text{Mr. X} and $x = 1.$ stay whole)."""
    depth, in_math = 0, False
    for j, c in enumerate(s):
        if c == "\\":
            continue
        if c == "$" and (j == 0 or s[j - 1] != "\\"):
            in_math = not in_math
        elif c in "{(":
            depth += 1
        elif c in "})" and depth > 0:
            depth -= 1
        elif c in ".。" and depth == 0 and not in_math:
            if j + 1 == len(s) or s[j + 1].isspace():
                return j
    return len(s)


def _field(text: str, at: int, limit: int, tag: bool) -> tuple[str, int]:
    """The value of a JSON "answer" field (a string, escapes decoded, or a bare value), or the
    text up to </answer>."""
    if tag:
        end = text.find("</answer>", at, limit)
        end = limit if end < 0 else end
        return text[at:end].strip(), end
    if text.startswith('"', at):
        m = _JSON_STR.match(text, at, limit)
        if m is None:
            return "", at
        try:
            return json.loads(m.group(0)), m.end()
        except ValueError:
            return m.group(0)[1:-1], m.end()
    m = re.compile(r"[^,}\n]*").match(text, at, limit)
    return m.group(0).strip(), m.end()


# A section after a bare label runs to the next heading: "## Check", "**Explanation**",
# "Verification:" alone on its line.
_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]|\*\*[^*\n]{1,60}\*\*[ \t]*:?[ \t]*$|[A-Z][A-Za-z ]{0,30}:[ \t]*$)",
    re.MULTILINE,
)


def span_after(text: str, at: int, limit: int, kind: str = "label") -> tuple[str, int, str]:
    """(answer span after a marker of `kind` ending at `at`, index where it ends, its kind).
    The kind becomes "block" when the marker's line is empty and a section of lines follows."""
    limit = min(limit, at + SPAN)
    if kind == "field":
        return (*_field(text, at, limit, text.startswith("<answer>", at - 8)), kind)
    i = _LEAD.match(text, at, limit).end()
    nl = text.find("\n", i, limit)
    line_end = limit if nl < 0 else nl
    block = not text[i:line_end].strip(" \t*$")
    if block:  # nothing on the marker's line: the next lines
        j = i
        while j < limit and text[j] in " \t\r\n*":
            j += 1
        if j - i > 200 or j >= limit:  # no answer after a long gap: the marker is empty
            return "", j, kind
        i = j
    end = _math_block(text, i, limit)
    if end is not None:
        return text[i:end], end, kind
    if block:
        head = _HEADING.search(text, i + 1, limit)
        end = limit if head is None else head.start()
        return text[i:end].rstrip(), end, "block"
    end = _line_end(text, i, limit)
    return text[i:end], end, kind  # the consumer cuts at the sentence it needs (reading.py)


def first_key(text: str) -> int:
    """Where the earliest possible marker or box starts (a key word every marker contains), or
    -1: nothing before it can state an answer."""
    low = text.lower()
    m = _KEYS.search(low) if len(low) == len(text) else _KEYS_ANY_CASE.search(text)
    found = [
        i for i in (m.start() if m else -1, text.find("\\boxed"), text.find("\\fbox")) if i >= 0
    ]
    return min(found) if found else -1


def _markers_backward(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of the markers from the last one back (at most MAX_TRIES). Windows around
    the key words are read from the end, each at most _CHUNK long, only as far as the caller
    asks: usually the last marker states the answer and one window is read."""
    low = text.lower()
    if len(low) == len(text):
        keys = [m.start() for m in _KEYS.finditer(low)]
    else:  # a character whose lowercase is longer: positions would shift, match case-blind
        keys = [m.start() for m in _KEYS_ANY_CASE.finditer(text)]
    floor = len(text) + 1  # matches must start before every match already given
    k, given = len(keys) - 1, 0
    while k >= 0 and given < MAX_TRIES:
        hi = min(len(text), keys[k] + _AFTER)
        lo = max(0, keys[k] - _BEFORE)
        while k > 0 and keys[k - 1] + _AFTER >= lo and hi - (keys[k - 1] - _BEFORE) <= _CHUNK:
            k -= 1
            lo = max(0, keys[k] - _BEFORE)
        k -= 1
        got = [
            (m.start(), m.end(), m.lastgroup or "label")
            for m in MARKERS.finditer(text, lo, hi)
            if m.start() < floor
        ]
        for found in reversed(got[-(MAX_TRIES - given) :]):
            yield found
            given += 1
        if got:
            floor = got[0][0]


def marked_spans(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(span, marker start, span end, kind) after each answer marker, from the last marker back
    (MAX_TRIES); kind is "phrase", "label", "hashes", "field" or "block" (see span_after)."""
    limit = len(text)
    for start, end, kind in _markers_backward(text):
        span, stop, kind = span_after(text, end, limit, kind)
        yield span, start, stop, kind
        limit = start
