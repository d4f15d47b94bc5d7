"""Assembly: graded candidates -> metamathqa.jsonl, rejected.jsonl, stats.json, DATA_CARD.md.

    stats = assemble(cfg, [run_dir / "work"], run_dir)     # several work dirs = a shard merge

Steps (method reference 1.7; none of them is in the original repository): keep correct samples;
drop exact (query, response) duplicates, queries that overlap a test set, and near-duplicate
responses of the same query; cap rows per (seed question, type); subsample each type to its
target with a seeded hash priority; write the answer line in MetaMathQA form. Two streaming
passes over the candidate files: the first keeps a small tuple per correct row (no text), the
second reads the chosen rows back by file offset in (type, id) order, so the output does not
depend on the order the rows were written in (resumed and sharded runs give the same file).
Memory: about 50 bytes per correct row in flat arrays (see Table), never the text.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from array import array
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from metamath.augment.config import AugmentConfig
from metamath.augment.decontaminate import NgramIndex
from metamath.augment.dedup import exact_key, near_duplicates, shingles
from metamath.augment.filter import format_response
from metamath.augment.generate import FILES
from metamath.augment.report import build_stats, write_card
from metamath.io import read_jsonl, write_json
from metamath.records import TYPES

_TYPE_ORDER = {t: i for i, t in enumerate(TYPES)}


# Why the assembly reason codes: one byte per row instead of a dict entry per dropped row.
KEEP, DUPLICATE, CONTAMINATED, NEAR_DUPLICATE, SEED_CAP, OVER_TARGET = range(6)
REASON = {
    DUPLICATE: "duplicate",
    CONTAMINATED: "contaminated",
    NEAR_DUPLICATE: "near_duplicate",
    SEED_CAP: "seed_cap",
    OVER_TARGET: "over_target",
}


class Table:
    """The correct rows of pass 1, column by column, in flat arrays (about 50 bytes a row and
    no Python object per row, so memory stays nearly flat as rows grow): hashes of the id and
    query group, the priority, the packed file position, the exact-duplicate key, small
    integer codes for seed and type, and a one-byte drop code. Text and ids are read
    back from the candidate file by position when a row is written."""

    def __init__(self) -> None:
        self.idh, self.gkey, self.prio, self.loc, self.ekey = (array("Q") for _ in range(5))
        self.seed = array("I")
        self.type = bytearray()
        self.seed_names: list[str] = []
        self.type_names: list[str] = []
        self._codes: dict[str, int] = {}
        self.code = bytearray()
        self.detail: dict[int, int | str] = {}  # row -> kept duplicate's row / test problem id

    def __len__(self) -> int:
        return len(self.idh)

    def add(
        self, rid: str, type_: str, seed: str, qkey: int, loc: int, ekey: int, salt: int
    ) -> None:
        self.idh.append(_h64(rid))
        self.prio.append(_h64(f"{salt}/{rid}"))
        self.type.append(self._type_code(type_))
        self.seed.append(self._seed_code(seed))
        # near-duplicate group: same seed, type and query, folded into one 64-bit key
        self.gkey.append(
            (qkey ^ (self.seed[-1] << 8 | self.type[-1]) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        )
        self.loc.append(loc)
        self.ekey.append(ekey)
        self.code.append(KEEP)

    def _type_code(self, type_: str) -> int:
        if type_ not in self.type_names:
            self.type_names.append(type_)
        return self.type_names.index(type_)

    def _seed_code(self, seed: str) -> int:
        c = self._codes.get(seed)
        if c is None:
            c = self._codes[seed] = len(self.seed_names)
            self.seed_names.append(seed)
        return c

    def type_of(self, i: int) -> str:
        return self.type_names[self.type[i]]

    def drop(self, i: int, code: int, detail: int | str | None = None) -> None:
        if self.code[i] == KEEP:
            self.code[i] = code
            if detail is not None:
                self.detail[i] = detail


def _h64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


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


def _read_at(files: list[Path], handles: dict, loc: int) -> dict:
    """The row at a packed position (file index << 48 | byte offset)."""
    file, offset = loc >> 48, loc & ((1 << 48) - 1)
    f = handles.get(file)
    if f is None:
        f = handles[file] = open(files[file], "rb")
    f.seek(offset)
    return json.loads(f.readline())


def assemble(
    cfg: AugmentConfig, work_dirs: list[Path], run_dir: Path, extra: dict[str, Any] | None = None
) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files = [Path(w) / FILES["solve"] for w in work_dirs if (Path(w) / FILES["solve"]).exists()]
    index, missing = (
        NgramIndex.load(cfg.decontam_sets, cfg.decontam_ngram) if cfg.decontaminate else (None, {})
    )
    t = Table()
    many = len(files) > 1
    seen_ids: set[str] = set()  # only for a merge: the same row in two runs counts once
    contam_cache: dict[int, str | None] = {}
    tally: dict[str, Counter] = defaultdict(Counter)  # technique -> samples, reject reasons
    bad = array("Q")  # packed file positions of the rows the grader rejected
    near = cfg.near_dup_threshold < 1.0
    for fi, path in enumerate(files):
        for off, r in _lines(path):
            if many:
                if r["id"] in seen_ids:
                    continue
                seen_ids.add(r["id"])
            tally[r["technique"]]["samples"] += 1
            if not r.get("correct"):
                tally[r["technique"]][r["reason"]] += 1
                bad.append(fi << 48 | off)
                continue
            qk = _h64(r["query"])
            resp = format_response(r["response"], r["target"], r["kind"])
            i = len(t)
            t.add(
                r["id"],
                r["type"],
                r["seed_id"],
                qk,
                fi << 48 | off,
                int.from_bytes(exact_key(r["query"], resp), "big"),
                cfg.seed,
            )
            if index is not None:
                if qk not in contam_cache:
                    contam_cache[qk] = index.match(r["query"])
                if contam_cache[qk]:
                    t.drop(i, CONTAMINATED, contam_cache[qk])
    del contam_cache, seen_ids
    _exact_duplicates(t)
    if near:
        _near_duplicates(t, files, cfg.near_dup_threshold)
    _cap_and_target(cfg, t)
    # Output order: by type, then by a hash of the id (a fixed shuffle, independent of file order)
    order = [_TYPE_ORDER.get(name, 99) for name in t.type_names]
    chosen = sorted(
        (i for i in range(len(t)) if t.code[i] == KEEP), key=lambda i: (order[t.type[i]], t.idh[i])
    )
    bad = sorted(bad)
    dropped = sorted((i for i in range(len(t)) if t.code[i] != KEEP), key=t.loc.__getitem__)
    examples = _write_outputs(
        files, [Path(w) for w in work_dirs], t, chosen, bad, dropped, run_dir, cfg
    )
    stats = build_stats(
        cfg, [Path(w) for w in work_dirs], tally, t, chosen, REASON, index, missing, extra or {}
    )
    write_json(run_dir / "stats.json", stats)
    write_card(run_dir / "DATA_CARD.md", cfg, stats, examples)
    return stats


def _runs(keys: array):
    """Row indices grouped by equal key (sorting a list of ints: no per-row key objects)."""
    run: list[int] = []
    for i in sorted(range(len(keys)), key=keys.__getitem__):
        if run and keys[i] != keys[run[0]]:
            if len(run) > 1:
                yield run
            run = []
        run.append(i)
    if len(run) > 1:
        yield run


def _near_duplicates(t: Table, files: list[Path], threshold: float) -> None:
    """Within each (seed, type, query) group, read the responses back and drop near-copies."""
    handles: dict[int, Any] = {}
    words: dict[str, int] = {}  # word -> crc32, shared by every group
    try:
        for members in _runs(t.gkey):
            live = [i for i in members if t.code[i] == KEEP]
            if len(live) < 2:
                continue
            rows = []
            for i in live:
                c = _read_at(files, handles, t.loc[i])
                resp = format_response(c["response"], c["target"], c["kind"])
                rows.append((t.idh[i], shingles(resp, words)))
            by_id = {t.idh[i]: i for i in live}
            for h in near_duplicates(rows, threshold):
                t.drop(by_id[h], NEAR_DUPLICATE)
    finally:
        for f in handles.values():
            f.close()


def _exact_duplicates(t: Table) -> None:
    """Among rows with the same (query, response), keep one (the smallest id hash: the choice
    does not depend on file order)."""
    for run in _runs(t.ekey):
        keep = min(run, key=t.idh.__getitem__)
        for j in run:
            if j != keep:
                t.drop(j, DUPLICATE, keep)


def _cap_and_target(cfg: AugmentConfig, t: Table) -> None:
    # 64-bit hash priorities: ties are as good as impossible, so no id tie-break is needed
    live = sorted((i for i in range(len(t)) if t.code[i] == KEEP), key=t.prio.__getitem__)
    if cfg.max_per_seed:
        per: Counter = Counter()
        for i in live:
            key = t.seed[i] << 8 | t.type[i]
            per[key] += 1
            if per[key] > cfg.max_per_seed:
                t.drop(i, SEED_CAP)
    per_type: Counter = Counter()
    for i in live:
        name = t.type_of(i)
        if t.code[i] != KEEP or name not in cfg.targets:
            continue
        per_type[name] += 1
        if per_type[name] > cfg.targets[name]:
            t.drop(i, OVER_TARGET)


def _write_outputs(
    files: list[Path],
    work_dirs: list[Path],
    t: Table,
    chosen: list[int],
    bad: list[int],
    dropped: list[int],
    run_dir: Path,
    cfg: AugmentConfig,
) -> dict[str, list[dict]]:
    """metamathqa.jsonl (chosen rows, in order) and rejected.jsonl (the grader's rejections,
    then assembly's drops, then stage-1 rejections); examples for the card."""
    examples: dict[str, list[dict]] = defaultdict(list)
    handles: dict[int, Any] = {}
    tmp = run_dir / "metamathqa.jsonl.tmp"
    try:
        with _Out(tmp) as out:
            for i in chosen:
                c = _read_at(files, handles, t.loc[i])
                row = {
                    "query": c["query"],
                    "response": format_response(c["response"], c["target"], c["kind"]),
                    "type": c["type"],
                    "original_question": c["original_question"],
                    "id": c["id"],
                    "seed_id": c["seed_id"],
                    "technique": c["technique"],
                    "target": c["target"],
                    "prompt_version": c.get("prompt_version"),
                }
                out.write(row)
                if len(examples[c["type"]]) < cfg.examples_in_card:
                    examples[c["type"]].append(row)
        tmp.replace(run_dir / "metamathqa.jsonl")
        with _Out(run_dir / "rejected.jsonl.tmp") as rej:
            for loc, i in itertools.chain(
                ((loc, None) for loc in bad), ((t.loc[i], i) for i in dropped)
            ):
                c = _read_at(files, handles, loc)
                reason, detail = (
                    (c["reason"], None) if i is None else (REASON[t.code[i]], t.detail.get(i))
                )
                if isinstance(detail, int):  # a duplicate: name the row that was kept
                    detail = _read_at(files, handles, t.loc[detail])["id"]
                rej.write(
                    {
                        "id": c["id"],
                        "stage": "solve" if i is None else "assemble",
                        "technique": c["technique"],
                        "type": c["type"],
                        "reason": reason,
                        "detail": detail,
                        "seed_id": c["seed_id"],
                        "query": c["query"],
                        "response": c["response"],
                        "extracted": c.get("extracted"),
                        "target": c["target"],
                    }
                )
            for w in work_dirs:
                for name in (FILES["masks"], FILES["rephrase"], FILES["sv_rewrite"]):
                    if (w / name).exists():
                        for _, s in read_jsonl(w / name):
                            if s.get("reason") is not None:
                                rej.write(
                                    {
                                        "id": s["id"],
                                        "stage": s["stage"],
                                        "technique": s["technique"],
                                        "reason": s["reason"],
                                        "seed_id": s["seed_id"],
                                        "text": s["text"],
                                        "raw": s["raw"],
                                    }
                                )
    finally:
        for f in handles.values():
            f.close()
    (run_dir / "rejected.jsonl.tmp").replace(run_dir / "rejected.jsonl")
    return examples
