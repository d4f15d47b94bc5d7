"""Response cache shared by every backend: a SQLite file (WAL) of answered samples.

    llm = CachedLLM(make_llm("openai", "gpt-4o-mini"), "run/work/llm_cache.sqlite")
    for res in llm.generate(requests): ...     # cached samples come back at once, the rest are sent
    llm.stats                                   # the backend's stats + cache_hits / cache_misses

Each (request, sample index) is keyed by `llm.base.cache_key` (model, prompt or messages, sampling
parameters, seed, index), so only the samples missing from the file go to the backend: a re-run of
a finished job sends nothing, and a job killed half-way resumes where it stopped. Samples are
committed as Results arrive, before the caller sees them (one transaction per list of finished
Results the backend hands over, else per Result). WAL with synchronous=NORMAL survives a killed
process; only an OS crash can lose the last commits. Errors are never cached, so a failed request
is retried on the next run; the answered samples of a failed request (backends put them in
`Result.meta["partial"]`) are kept. A failed sample (the server answered a choice without text:
Completion.error) is an answer, and is cached with its error like any other. Text read back goes
through the same boundary as fresh text (metamath.llm.base.Completion cleans it).

A request that is partly cached asks the backend for the missing samples only: as one request of
n = len(missing) when unseeded; when seeded, as one request per missing index i with seed + i
(the same convention as the openai backend's fan-out), so the new samples never repeat cached ones.
Several processes may share one file (SQLite locking; busy_timeout waits up to a minute).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from metamath.llm.base import LLM, Completion, Request, Result, cache_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    key TEXT PRIMARY KEY,          -- cache_key(model, request, index)
    model TEXT NOT NULL,
    request_id TEXT NOT NULL,      -- for people reading the file; not part of the key
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL,
    error TEXT                     -- a failed sample's error (Completion.error), else NULL
)"""
_COLUMNS = (
    "key, model, request_id, idx, text, finish_reason, prompt_tokens, completion_tokens, "
    "created, error"
)


def sample_keys(model: str, request: Request) -> list[str]:
    """cache_key(model, request, i) for every sample i, serialising the request once.

    sort_keys puts "index" first in cache_key's JSON, so only that prefix differs between
    samples; this saves ~0.5 ms of CPU per request of n = 10. Falls back to cache_key if the
    layout ever changes (test_llm_cache checks both agree).
    """
    doc = json.dumps(
        {"model": model, "index": 0, **request.sampling_key()}, sort_keys=True, ensure_ascii=False
    )
    head = '{"index": 0, '
    if not doc.startswith(head):
        return [cache_key(model, request, i) for i in range(request.n)]
    rest = doc[len(head) :]
    return [
        hashlib.sha256(f'{{"index": {i}, {rest}'.encode()).hexdigest() for i in range(request.n)
    ]


@dataclass
class _Pending:
    request: Request
    keys: list[str]
    have: dict[int, Completion]
    waiting: int
    errors: list[str] = field(default_factory=list)
    retries: int = 0


class CachedLLM:
    """Wraps any LLM; same protocol. `model` defaults to the wrapped backend's model name."""

    def __init__(self, llm: LLM, path: str | Path, model: str | None = None):
        self.llm, self.model, self.path = llm, model or llm.model, Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=60, check_same_thread=False, isolation_level=None
        )  # autocommit: a statement commits
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(samples)")}
        if "error" not in cols:  # a cache file written before failed samples were kept
            self._db.execute("ALTER TABLE samples ADD COLUMN error TEXT")
        self.hits = self.misses = 0  # samples served from the file / asked of the backend
        self._ids = itertools.count()

    @property
    def stats(self) -> dict[str, Any]:
        inner = dict(getattr(self.llm, "stats", {}) or {})
        return {**inner, "cache_hits": self.hits, "cache_misses": self.misses}

    def lookup(self, request: Request, keys: list[str] | None = None) -> dict[int, Completion]:
        """The cached samples of a request, by sample index."""
        keys = {k: i for i, k in enumerate(keys or sample_keys(self.model, request))}
        marks = ",".join("?" * len(keys))
        rows = self._db.execute(
            "SELECT key, text, finish_reason, prompt_tokens, completion_tokens, error FROM samples "
            f"WHERE key IN ({marks})",
            list(keys),
        ).fetchall()
        return {
            keys[k]: Completion(t, keys[k], f, p, c, cached=True, error=e)
            for k, t, f, p, c, e in rows
        }

    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        pending: dict[int, _Pending] = {}
        plan: dict[str, tuple[int, list[int]]] = {}  # sub-request id -> (pending slot, indices)
        to_send: list[Request] = []
        for slot, req in enumerate(requests):
            keys = sample_keys(self.model, req)
            have = self.lookup(req, keys)
            self.hits += len(have)
            missing = [i for i in range(req.n) if i not in have]
            if not missing:
                yield Result(req, tuple(have[i] for i in range(req.n)), meta={"cached": True})
                continue
            self.misses += len(missing)
            subs = self._split(req, missing)
            pending[slot] = _Pending(req, keys, have, waiting=len(subs))
            for sub, idx in subs:
                plan[sub.id] = (slot, idx)
                to_send.append(sub)
        if not to_send:
            return
        # A backend that can hand over every Result finished so far (generate_batches) gets one
        # INSERT per list instead of one per Result; either way nothing reaches the caller
        # before it is committed.
        batches = getattr(self.llm, "generate_batches", None)
        stream = batches(to_send) if batches else ([r] for r in self.llm.generate(to_send))
        for batch in stream:
            rows, finished = [], []
            for res in batch:
                slot, idx = plan.pop(res.request.id)
                p = pending[slot]
                answered = res.completions or tuple(res.meta.get("partial", ()))
                new = [
                    Completion(
                        c.text,
                        idx[c.index],
                        c.finish_reason,
                        c.prompt_tokens,
                        c.completion_tokens,
                        error=c.error,
                    )
                    for c in answered
                    if c.index < len(idx)
                ]
                rows += self._rows(p, new)
                p.have.update({c.index: c for c in new})
                p.retries += res.retries
                if res.error:
                    p.errors.append(res.error)
                p.waiting -= 1
                if p.waiting == 0:
                    del pending[slot]
                    finished.append(p)
            self._insert(rows)  # committed before the caller sees anything
            for p in finished:
                yield self._merge(p)

    def _split(self, req: Request, missing: list[int]) -> list[tuple[Request, list[int]]]:
        tag = f"{req.id}#cache{next(self._ids)}"
        if len(missing) == req.n:
            return [(replace(req, id=tag), missing)]
        if req.seed is None:
            return [(replace(req, id=tag, n=len(missing)), missing)]
        return [(replace(req, id=f"{tag}.{i}", n=1, seed=req.seed + i), [i]) for i in missing]

    def _merge(self, p: _Pending) -> Result:
        req, have = p.request, p.have
        if p.errors or len(have) < req.n:
            partial = [have[i] for i in sorted(have)]
            error = p.errors[0] if p.errors else f"backend returned {len(have)} of {req.n} samples"
            return Result(
                req,
                (),
                error=error,
                retries=p.retries,
                meta={"partial": partial} if partial else {},
            )
        cached = sum(c.cached for c in have.values())
        return Result(
            req,
            tuple(have[i] for i in range(req.n)),
            retries=p.retries,
            meta={"cached_samples": cached} if cached else {},
        )

    def _rows(self, p: _Pending, comps: list[Completion]) -> list[tuple]:
        now = time.time()
        return [
            (
                p.keys[c.index],
                self.model,
                p.request.id,
                c.index,
                c.text,
                c.finish_reason,
                c.prompt_tokens,
                c.completion_tokens,
                now,
                c.error,
            )
            for c in comps
        ]

    def _insert(self, rows: list[tuple]) -> None:
        # Multi-row INSERTs in one transaction: sqlite3 drops the GIL once per statement step,
        # not once per row, and the commit makes the rows durable against a killed process.
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for k in range(0, len(rows), 1000):  # SQLite allows 32766 bound variables (10/row)
                chunk = rows[k : k + 1000]
                self._db.execute(
                    f"INSERT OR REPLACE INTO samples ({_COLUMNS}) VALUES "
                    + ",".join(["(?,?,?,?,?,?,?,?,?,?)"] * len(chunk)),
                    [v for row in chunk for v in row],
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]

    def close(self) -> None:
        try:
            self.llm.close()
        finally:
            self._db.close()

    def __enter__(self) -> CachedLLM:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
