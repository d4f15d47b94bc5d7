"""Duplicate removal: exact (query, response) duplicates and near-duplicate responses.

    key = exact_key(query, response)              # 8-byte digest of whitespace-normalised text
    s = sketch(response)                          # bottom-k MinHash of word 3-grams
    jaccard_estimate(s1, s2) >= 0.9               # near-duplicates

Neither the paper nor the released code deduplicates (method reference 1.7). k samples of one
question at temperature 0.7 often agree word for word, or differ only in spacing or a word;
such rows add nothing but weight on that question. Near-duplicates are only looked for among
rows of the same seed, type and query, so the pairwise check stays small, and the decision is
independent of file order (rows are compared in id order), which a resumed or sharded run needs.
The sketch uses crc32 rather than Python's hash() because hash() changes between processes.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import zlib
from typing import Any

SKETCH_K = 16
_WORD = re.compile(r"\w+")


def exact_key(query: str, response: str) -> bytes:
    norm = " ".join(query.split()) + "\x00" + " ".join(response.split())
    return hashlib.blake2b(norm.encode(), digest_size=8).digest()


def sketch(text: str, k: int = SKETCH_K, _crc: dict[str, int] | None = None) -> tuple[int, ...]:
    """The k smallest hashes of the text's lowercase word 3-grams (bottom-k MinHash).

    A 3-gram's hash is a shift-xor of its words' crc32 values (kept to 32 bits, even, so
    0xFFFFFFFF can pad a packed sketch), so each word is hashed once
    (and, with a shared `_crc` dict, once per run): this runs at assembly speed."""
    crc = {} if _crc is None else _crc
    get = crc.get
    hs = []
    for w in _WORD.findall(text.lower()):
        h = get(w)
        if h is None:
            h = crc[w] = zlib.crc32(w.encode()) + 1
        hs.append(h)
    if len(hs) < 3:
        return (sum(hs) & 0xFFFFFFFE,)
    # shifts keep word order in the 3-gram's hash; small ints keep the arithmetic cheap
    grams = {((a << 2) ^ (b << 1) ^ c) & 0xFFFFFFFE
             for a, b, c in zip(hs, hs[1:], hs[2:], strict=False)}
    return tuple(sorted(grams)[:k])


def jaccard_estimate(a: tuple[int, ...], b: tuple[int, ...], k: int = SKETCH_K) -> float:
    """Bottom-k estimate of the Jaccard similarity of the two shingle sets (Broder 1997)."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    union = heapq.nsmallest(k, set(a) | set(b))
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


def near_duplicates(rows: list[tuple[Any, tuple[int, ...]]], threshold: float) -> set:
    """Keys to drop from one group of (key, sketch): in key order (ids or id hashes), a row
    close to an earlier kept row is a near-duplicate."""
    if threshold >= 1.0:
        return set()
    kept: list[tuple[int, ...]] = []
    drop = set()
    for rid, sk in sorted(rows):
        if any(jaccard_estimate(sk, other) >= threshold for other in kept):
            drop.add(rid)
        else:
            kept.append(sk)
    return drop
