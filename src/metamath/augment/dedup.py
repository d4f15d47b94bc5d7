"""Duplicate removal: exact (query, response) duplicates and near-duplicate responses.

    key = exact_key(query, response)              # 8-byte digest of whitespace-normalised text
    s = shingles(response)                        # hashes of the lowercase word 3-grams
    jaccard(s1, s2) >= 0.9                        # near-duplicates
    near_duplicates([(key, shingles), ...], 0.9)  # which to drop from one group

Neither the paper nor the released code deduplicates (method reference 1.7). k samples of one
question at temperature 0.7 often agree word for word, or differ only in spacing or a word;
such rows add nothing but weight on that question. Near-duplicates are only looked for among
rows of the same seed, type and query (a group of about k rows), so the exact Jaccard of the
3-gram sets is cheap and no estimate is needed (a bottom-16 MinHash misses a third of the pairs
at a true Jaccard of 0.94 against a 0.9 threshold). The decision is independent of file order
(rows are compared in key order), which resumed and sharded runs need. Word hashes use crc32
rather than Python's hash(), which changes between processes.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from typing import Any

_WORD = re.compile(r"\w+")


def exact_key(query: str, response: str) -> bytes:
    norm = " ".join(query.split()) + "\x00" + " ".join(response.split())
    return hashlib.blake2b(norm.encode(), digest_size=8).digest()


def shingles(text: str, _crc: dict[str, int] | None = None) -> frozenset[int]:
    """Hashes of the text's lowercase word 3-grams (a shift-xor of the words' crc32 values, so
    each word is hashed once; with a shared `_crc` dict, once per run)."""
    crc = {} if _crc is None else _crc
    get = crc.get
    hs = []
    for w in _WORD.findall(text.lower()):
        h = get(w)
        if h is None:
            h = crc[w] = zlib.crc32(w.encode()) + 1
        hs.append(h)
    if len(hs) < 3:
        return frozenset((sum(hs),))
    return frozenset((a << 2) ^ (b << 1) ^ c for a, b, c in zip(hs, hs[1:], hs[2:], strict=False))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicates(rows: list[tuple[Any, frozenset[int]]], threshold: float) -> set:
    """Keys to drop from one group of (key, shingles): in key order, a row whose Jaccard with
    an earlier kept row reaches the threshold is a near-duplicate."""
    if threshold >= 1.0:
        return set()
    kept: list[frozenset[int]] = []
    drop = set()
    for key, sh in sorted(rows, key=lambda r: r[0]):
        if any(jaccard(sh, other) >= threshold for other in kept):
            drop.add(key)
        else:
            kept.append(sh)
    return drop
