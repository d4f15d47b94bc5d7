"""Decontamination: drop rows whose query shares a word n-gram with a GSM8K or MATH test problem.

    index = NgramIndex.load(["gsm8k", "math"], n=10)
    hit = index.match(query)          # "gsm8k:gsm8k/test/17" (test set:problem id) or None

Seeds come from the train splits, but a teacher may rephrase a train question into a test one,
or a user's seed file may hold test items. The n-gram rule follows DeepSeekMath (Shao et al.
2024, section 2.1: any 10-gram shared with a benchmark removes the text). Test problems shorter
than n words are matched whole. Python's hash() is fine here: membership does not depend on the
hash values, only on equality, within the one process that builds and queries the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grams(words: list[str], n: int) -> Iterable[int]:
    if len(words) < n:
        yield hash(" ".join(words))
        return
    for i in range(len(words) - n + 1):
        yield hash(" ".join(words[i : i + n]))


class NgramIndex:
    def __init__(self, n: int = 10):
        self.n = n
        self._index: dict[int, str] = {}
        self._short: dict[int, str] = {}
        self.sources: dict[str, int] = {}  # test set -> problems indexed

    def add(self, pid: str, text: str) -> None:
        words = _words(text)
        if len(words) < self.n:
            self._short[hash(" ".join(words))] = pid
        for g in _grams(words, self.n):
            self._index.setdefault(g, pid)

    def match(self, query: str) -> str | None:
        words = _words(query)
        if self._short:
            short = self._short.get(hash(" ".join(words)))
            if short:
                return short
        for g in _grams(words, self.n):
            hit = self._index.get(g)
            if hit is not None:
                return hit
        return None

    @classmethod
    def load(cls, names: list[str], n: int = 10) -> tuple[NgramIndex, dict[str, str]]:
        """An index over the named test sets, and a note per set that could not be loaded."""
        from metamath import data

        idx, missing = cls(n), {}
        for name in names:
            try:
                ps = data.load(name, "test", skip_bad=True)
            except (FileNotFoundError, RuntimeError, ValueError) as e:
                missing[name] = str(e)[:300]
                continue
            for p in ps:
                idx.add(f"{name}:{p.id}", p.question)
            idx.sources[name] = len(ps)
        return idx, missing
