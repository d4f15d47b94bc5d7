"""Assembly: graded candidates -> metamathqa.jsonl, rejected.jsonl, stats.json, DATA_CARD.md.

    stats = assemble(cfg, [run_dir / "work"], run_dir)     # several work dirs = a shard merge

Steps (method reference 1.7; none of them is in the original repository): keep correct samples;
drop exact (query, response) duplicates, queries that overlap a test set, and near-duplicate
responses of the same query; cap rows per (seed question, type); subsample each type to its
target with a seeded hash priority; write the answer line in MetaMathQA form. Two streaming
passes over the candidate files: the first keeps a small tuple per correct row (no text), the
second reads the chosen rows back by file offset in (type, id) order, so the output does not
depend on the order the rows were written in (resumed and sharded runs give the same file).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from metamath.augment.config import AugmentConfig
from metamath.augment.decontaminate import NgramIndex
from metamath.augment.dedup import exact_key, near_duplicates, sketch
from metamath.augment.filter import format_response
from metamath.augment.generate import FILES
from metamath.augment.report import build_stats, write_card
from metamath.io import read_jsonl, write_json
from metamath.records import TYPES

_TYPE_ORDER = {t: i for i, t in enumerate(TYPES)}


class Row(NamedTuple):
    id: str
    type: str
    seed_id: str
    query_key: bytes
    priority: bytes
    file: int
    offset: int


def _lines(path: Path):
    """(offset, dict) of each JSONL line, via byte offsets so pass 2 can seek back."""
    with open(path, "rb") as f:
        off = 0
        for raw in f:
            if raw.strip():
                yield off, json.loads(raw)
            off += len(raw)


class _Out:
    """A buffered JSONL writer for whole-file outputs: they are written to a temp file and
    renamed, so per-line flushes (io.JsonlWriter's crash safety) would only cost time."""

    def __init__(self, path: Path):
        self._f = open(path, "w", encoding="utf-8")

    def write(self, obj: dict) -> None:
        self._f.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def __enter__(self) -> _Out:
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()


def _read_at(files: list[Path], handles: dict, file: int, offset: int) -> dict:
    f = handles.get(file)
    if f is None:
        f = handles[file] = open(files[file], "rb")
    f.seek(offset)
    return json.loads(f.readline())


def assemble(cfg: AugmentConfig, work_dirs: list[Path], run_dir: Path,
             extra: dict[str, Any] | None = None) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files = [Path(w) / FILES["solve"] for w in work_dirs if (Path(w) / FILES["solve"]).exists()]
    index, missing = (NgramIndex.load(cfg.decontam_sets, cfg.decontam_ngram)
                      if cfg.decontaminate else (None, {}))
    drop: dict[str, tuple[str, str | None]] = {}  # id -> (reason, detail), correct rows only
    rows: list[Row] = []
    seen_ids: set[str] = set()
    exact: dict[bytes, str] = {}
    groups: dict[tuple, list] = defaultdict(list)
    contam_cache: dict[bytes, str | None] = {}
    tally: dict[str, Counter] = defaultdict(Counter)  # technique -> samples, reject reasons
    bad: list[tuple[int, int]] = []  # (file, offset) of the rows the grader rejected
    words: dict[str, int] = {}  # word -> crc32, shared by every sketch
    for fi, path in enumerate(files):
        for off, r in _lines(path):
            if r["id"] in seen_ids:
                continue  # the same row in two shards' files: count it once
            seen_ids.add(r["id"])
            tally[r["technique"]]["samples"] += 1
            if not r.get("correct"):
                tally[r["technique"]][r["reason"]] += 1
                bad.append((fi, off))
                continue
            rid, qk = r["id"], hashlib.blake2b(r["query"].encode(), digest_size=8).digest()
            prio = hashlib.blake2b(f"{cfg.seed}/{rid}".encode(), digest_size=8).digest()
            rows.append(Row(rid, r["type"], r["seed_id"], qk, prio, fi, off))
            resp = format_response(r["response"], r["target"], r["kind"])
            key = exact_key(r["query"], resp)
            if key in exact:  # keep the smallest id of each exact duplicate
                loser = max(rid, exact[key])
                exact[key] = min(rid, exact[key])
                drop[loser] = ("duplicate", exact[key])
            else:
                exact[key] = rid
            if index is not None:
                if qk not in contam_cache:
                    contam_cache[qk] = index.match(r["query"])
                if contam_cache[qk]:
                    drop.setdefault(rid, ("contaminated", contam_cache[qk]))
            if cfg.near_dup_threshold < 1.0:
                groups[(r["seed_id"], r["type"], qk)].append((rid, sketch(resp, _crc=words)))
    del exact, contam_cache, words
    for members in groups.values():
        live = [(i, s) for i, s in members if i not in drop]
        for i in near_duplicates(live, cfg.near_dup_threshold):
            drop[i] = ("near_duplicate", None)
    del groups
    _cap_and_target(cfg, rows, drop)
    chosen = sorted((r for r in rows if r.id not in drop),
                    key=lambda r: (_TYPE_ORDER.get(r.type, 99), r.id))
    dropped = [(r.file, r.offset) for r in rows if r.id in drop]
    examples = _write_outputs(files, [Path(w) for w in work_dirs], chosen, sorted(bad + dropped),
                              drop, run_dir, cfg)
    stats = build_stats(cfg, [Path(w) for w in work_dirs], tally, rows, drop, chosen, index,
                        missing, extra or {})
    write_json(run_dir / "stats.json", stats)
    write_card(run_dir / "DATA_CARD.md", cfg, stats, examples)
    return stats


def _cap_and_target(cfg: AugmentConfig, rows: list[Row], drop: dict) -> None:
    live = sorted((r for r in rows if r.id not in drop), key=lambda r: (r.priority, r.id))
    if cfg.max_per_seed:
        per: Counter = Counter()
        for r in live:
            per[(r.seed_id, r.type)] += 1
            if per[(r.seed_id, r.type)] > cfg.max_per_seed:
                drop[r.id] = ("seed_cap", None)
    per_type: Counter = Counter()
    for r in live:
        if r.id in drop or r.type not in cfg.targets:
            continue
        per_type[r.type] += 1
        if per_type[r.type] > cfg.targets[r.type]:
            drop[r.id] = ("over_target", None)


def _write_outputs(files: list[Path], work_dirs: list[Path], chosen: list[Row],
                   rejected: list[tuple[int, int]], drop: dict, run_dir: Path,
                   cfg: AugmentConfig) -> dict[str, list[dict]]:
    """metamathqa.jsonl (chosen rows, in order) and rejected.jsonl; examples for the card."""
    examples: dict[str, list[dict]] = defaultdict(list)
    handles: dict[int, Any] = {}
    tmp = run_dir / "metamathqa.jsonl.tmp"
    try:
        with _Out(tmp) as out:
            for r in chosen:
                c = _read_at(files, handles, r.file, r.offset)
                row = {"query": c["query"],
                       "response": format_response(c["response"], c["target"], c["kind"]),
                       "type": c["type"], "original_question": c["original_question"],
                       "id": c["id"], "seed_id": c["seed_id"], "technique": c["technique"],
                       "target": c["target"], "prompt_version": c.get("prompt_version")}
                out.write(row)
                if len(examples[r.type]) < cfg.examples_in_card:
                    examples[r.type].append(row)
        tmp.replace(run_dir / "metamathqa.jsonl")
        with _Out(run_dir / "rejected.jsonl.tmp") as rej:
            for fi, off in rejected:  # file order: grader rejections and assembly drops
                c = _read_at(files, handles, fi, off)
                reason, detail = (c["reason"], None) if not c.get("correct") else drop[c["id"]]
                rej.write({"id": c["id"], "stage": "solve" if not c.get("correct") else
                           "assemble", "technique": c["technique"], "type": c["type"],
                           "reason": reason, "detail": detail, "seed_id": c["seed_id"],
                           "query": c["query"], "response": c["response"],
                           "extracted": c.get("extracted"), "target": c["target"]})
            for w in work_dirs:
                for name in (FILES["rephrase"], FILES["sv_rewrite"]):
                    if (w / name).exists():
                        for _, s in read_jsonl(w / name):
                            if s.get("reason") is not None:
                                rej.write({"id": s["id"], "stage": s["stage"],
                                           "technique": s["technique"], "reason": s["reason"],
                                           "seed_id": s["seed_id"], "text": s["text"],
                                           "raw": s["raw"]})
    finally:
        for f in handles.values():
            f.close()
    (run_dir / "rejected.jsonl.tmp").replace(run_dir / "rejected.jsonl")
    return examples
