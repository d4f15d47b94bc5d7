"""Brace-matched `\\boxed{...}` / `\\fbox{...}` extraction (MATH convention: the gold is the last box).

Linear-time scan with an explicit depth counter (no regex recursion, no backtracking), so
adversarial input such as 200 nested braces or a 5 MB string costs one pass.
"""

from __future__ import annotations

_COMMANDS = ("\\boxed", "\\fbox")


def _box_content(text: str, start: int) -> tuple[str, int] | None:
    """Given the index just after `\\boxed`, return (content, end index) or None if unbalanced."""
    i = start
    n = len(text)
    while i < n and text[i] == " ":
        i += 1
    if i < n and text[i] == "{":
        depth = 0
        j = i
        while j < n:
            c = text[j]
            if c == "\\" and j + 1 < n and text[j + 1] in "{}":
                j += 2  # escaped brace \{ or \} (a set literal) does not count
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j], j + 1
            j += 1
        return None
    # "\boxed 5" form (no braces): read up to the next space, "$" or end.
    if i > start:
        j = i
        while j < n and text[j] not in " $\n":
            j += 1
        if j > i:
            return text[i:j], j
    return None


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{}` (or `\\fbox{}`) in text, braces matched; None if absent."""
    best: tuple[int, str] | None = None
    for cmd in _COMMANDS:
        pos = text.rfind(cmd)
        while pos != -1:
            after = pos + len(cmd)
            # skip e.g. "\boxedx" (another macro); a box is followed by "{", " " or end
            got = _box_content(text, after) if (after >= len(text) or text[after] in "{ ") else None
            if got is not None:
                if best is None or pos > best[0]:
                    best = (pos, got[0])
                break
            pos = text.rfind(cmd, 0, pos)
    return None if best is None else best[1].strip()


def all_boxed(text: str) -> list[str]:
    """Contents of every `\\boxed{}` in order."""
    out: list[str] = []
    pos = text.find("\\boxed")
    while pos != -1:
        got = _box_content(text, pos + len("\\boxed"))
        if got is not None:
            out.append(got[0].strip())
            pos = text.find("\\boxed", got[1])
        else:
            pos = text.find("\\boxed", pos + 1)
    return out
