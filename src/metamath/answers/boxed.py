"""Brace-matched `\\boxed{...}` / `\\fbox{...}` extraction (MATH convention: the gold is the last box).

    last_boxed("so $\\boxed{\\frac{1}{2}}$.")   -> "\\frac{1}{2}"
    all_boxed("\\boxed{1} and \\boxed{2}")       -> ["1", "2"]

One linear pass matches every brace with a stack (no regex recursion, no backtracking, and no
rescan per candidate), so adversarial input such as 200 nested braces, thousands of unclosed
`\\boxed{`, or a 5 MB string costs one pass. Escaped braces `\\{ \\}` (set literals) do not count.
"""

from __future__ import annotations

import re

_COMMANDS = ("\\boxed", "\\fbox")
_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def _brace_pairs(text: str, start: int) -> dict[int, int]:
    """Map each "{" at or after `start` to its matching "}" (unmatched ones are absent)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "{}":
            i += 2  # escaped brace \{ or \} (a set literal) does not count
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


def _content(text: str, after: int, pairs: dict[int, int]) -> tuple[str, int] | None:
    """Content of the box whose command ends at `after`: braced, or the "\\boxed 5" form."""
    i, n = after, len(text)
    while i < n and text[i] == " ":
        i += 1
    if i < n and text[i] == "{":
        end = pairs.get(i)
        return None if end is None else (text[i + 1 : end], end + 1)
    if i > after:  # "\boxed 5": up to the next space, "$" or newline
        j = i
        while j < n and text[j] not in " $\n":
            j += 1
        if j > i:
            return text[i:j], j
    return None


def _boxes(text: str) -> list[tuple[str, int, int]]:
    """(content, start, end) of every box, in order of where they start."""
    if "\\boxed" not in text and "\\fbox" not in text:
        return []
    found = [(m.start(), m.end()) for m in _BOX.finditer(text)]
    if not found:
        return []
    pairs = _brace_pairs(text, found[0][1])
    out = []
    for start, after in found:
        got = _content(text, after, pairs)
        if got is not None:
            out.append((got[0], start, got[1]))
    return out


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{}` (or `\\fbox{}`) in text, braces matched; None if absent."""
    boxes = _boxes(text)
    return boxes[-1][0].strip() if boxes else None


def last_boxed_at(text: str) -> tuple[str, int] | None:
    """(content of the last non-empty box, index where its command starts), or None (an empty
    "\\boxed{}", as in "the final answer is within \\boxed{}", states nothing)."""
    for content, start, _ in reversed(_boxes(text)):
        if content.strip():
            return content.strip(), start
    return None


def all_boxed(text: str) -> list[str]:
    """Contents of every `\\boxed{}`/`\\fbox{}` in order (a box nested in a box is skipped)."""
    out: list[str] = []
    end = -1
    for content, _, stop in _boxes(text):
        if stop > end:
            out.append(content.strip())
            end = stop
    return out
