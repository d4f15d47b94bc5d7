"""Decontamination: drop rows whose query shares a word n-gram with a GSM8K or MATH test problem.

    ngrams, near, missing = load_indices(["gsm8k", "my_test.jsonl"], 10, minhash=0.5)
    hit = ngrams.match(query)         # "gsm8k:gsm8k/test/17" (test set:problem id) or None

Test sets are named (gsm8k, math, math500, gsm8k_backward: their test split) or given as a
JSONL/JSON/Parquet file of problems (its question, problem or query field). Beside the n-grams,
load_indices builds the paraphrase-level MinHash index (minhash.py) over the same problems.

Seeds come from the train splits, but a teacher may rephrase a train question into a test one,
or a user's seed file may hold test items. The n-gram rule follows DeepSeekMath (Shao et al.
2024, section 2.1: any 10-gram shared with a benchmark removes the text). Test problems shorter
than n words are matched whole. Python's hash() is fine here: membership does not depend on the
hash values, only on equality, within the one process that builds and queries the index.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

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


_FIELDS = ("question", "problem", "query")


def test_problems(name: str) -> list[tuple[str, str]]:
    """(id, text) of a test set: a built-in name (its test split) or a file of problems."""
    from pathlib import Path

    from metamath import data
    from metamath.io import DataError, nearby, read_records

    path = Path(name).expanduser()
    if not is_file_set(name):
        return [(p.id, p.question) for p in data.load(name, "test", skip_bad=True)]
    if not path.exists():
        raise FileNotFoundError(f"decontam_sets: {path} does not exist{nearby(path)}")
    out = []
    for no, row in read_records(path):
        field = next((f for f in _FIELDS if isinstance(row.get(f), str)), None)
        if field is None:
            raise DataError(path, no, f"has none of the fields {', '.join(_FIELDS)}", field=None)
        out.append((str(row.get("id", row.get("unique_id", no))), row[field]))
    return out


def is_file_set(name: str) -> bool:
    from pathlib import Path

    path = Path(name).expanduser()
    return path.suffix.lower() in (".jsonl", ".json", ".parquet") or path.exists()


def load_indices(names: list[str], n: int = 10, minhash: float | None = 0.5):
    """(n-gram index, MinHash index or None, {set: why it was not loaded}) over the test sets."""
    from metamath.augment.minhash import MinHashIndex

    idx, near, missing = NgramIndex(n), (MinHashIndex(minhash) if minhash else None), {}
    for name in names:
        try:
            ps = test_problems(name)
        except (FileNotFoundError, RuntimeError, ValueError) as e:
            if is_file_set(name):  # the user's own file: a wrong path is an error, not a note
                raise
            missing[name] = str(e)[:300]
            continue
        for pid, text in ps:
            idx.add(f"{name}:{pid}", text)
            if near is not None:
                near.add(f"{name}:{pid}", text)
        idx.sources[name] = len(ps)
    return idx, near, missing


class Contamination:  # used by assemble.py
    """Each distinct query checked once: the n-gram rule, then the paraphrase (MinHash) rule."""

    def __init__(self, cfg: Any):  # an AugmentConfig
        self.ngram, self.near, self.missing = (
            load_indices(
                cfg.decontam_sets,
                cfg.decontam_ngram,
                cfg.minhash_threshold if cfg.decontam_minhash else None,
            )
            if cfg.decontaminate
            else (None, None, {})
        )
        self.seen: dict[int, tuple[str, str, float] | None] = {}  # query hash -> hit

    def check(self, qk: int, query: str) -> tuple[str, str, float] | None:
        """(test id, rule, similarity) or None."""
        if self.ngram is None:
            return None
        if qk not in self.seen:
            hit = self.ngram.match(query)
            if hit:
                self.seen[qk] = (hit, "ngram", 1.0)
            else:
                near = self.near.match(query) if self.near is not None else None
                self.seen[qk] = (near[0], "minhash", near[1]) if near else None
        return self.seen[qk]

    def stats(self, t: Any) -> dict:
        rules: Counter = Counter()
        for qk in t.qkey_of.values():  # the rows dropped as contaminated
            rules[self.seen[qk][1]] += 1
        out: dict = {"removed_by_rule": {"ngram": rules["ngram"], "minhash": rules["minhash"]}}
        if self.near is not None:
            out["minhash"] = {
                "shingle": self.near.shingle,
                "threshold": self.near.threshold,
                "indexed": len(self.near),
            }
        return out
