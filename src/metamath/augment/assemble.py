"""Assembly: graded candidates -> metamathqa.jsonl, rejected.jsonl, stats.json, DATA_CARD.md.

    stats = assemble(cfg, [run_dir / "work"], run_dir)     # several work dirs = a shard merge

Steps (method reference 1.7; none of them is in the original repository): keep correct samples;
drop exact (query, response) duplicates, queries that overlap a test set (a shared word n-gram,
or a paraphrase: minhash.py), and near-duplicate responses of the same query (both in sample
order, so the first samples of a question are the ones kept); keep the first `target` of a
budgeted question (budget.py; the rest: over_budget); cap rows per (seed question, type);
subsample each type to its target with a seeded hash priority; write the answer line in
MetaMathQA form. Two streaming
passes over the candidate files: the first keeps a small tuple per correct row (no text), the
second reads the chosen rows back by file offset in (type, id) order, so the output does not
depend on the order the rows were written in (resumed and sharded runs give the same file;
rejected.jsonl too: its rows are ordered by a hash of the question, then sample index).
Memory: about 60 bytes per correct row in flat arrays (see Table), plus per-question counters
(coverage.Items) and transient sort lists; never the text.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from metamath.augment.budget import budget_targets, budgeted, sample_index
from metamath.augment.card import write_card
from metamath.augment.config import AugmentConfig
from metamath.augment.coverage import Items, coverage_stats
from metamath.augment.decontaminate import Contamination
from metamath.augment.dedup import exact_key, near_duplicates, shingles
from metamath.augment.filter import format_response
from metamath.augment.generate import FILES
from metamath.augment.outputs import SEED_REJECTS, failed_requests, read_at, write_outputs
from metamath.augment.report import build_stats
from metamath.augment.vote import read_votes
from metamath.io import read_jsonl, write_json
from metamath.records import TYPES

_TYPE_ORDER = {t: i for i, t in enumerate(TYPES)}


# Why the assembly reason codes: one byte per row instead of a dict entry per dropped row.
KEEP, DUPLICATE, CONTAMINATED, NEAR_DUPLICATE, SEED_CAP, OVER_TARGET, OVER_BUDGET = range(7)
REASON = {
    DUPLICATE: "duplicate",
    CONTAMINATED: "contaminated",
    NEAR_DUPLICATE: "near_duplicate",
    SEED_CAP: "seed_cap",
    OVER_TARGET: "over_target",
    OVER_BUDGET: "over_budget",
}


class Table:
    """The correct rows of pass 1, column by column, in flat arrays (about 60 bytes a row and
    no Python object per row, so memory stays nearly flat as rows grow): hashes of the id and
    query group, the priority, the packed file position, the exact-duplicate key, small
    integer codes for seed and type, and a one-byte drop code. Text and ids are read
    back from the candidate file by position when a row is written."""

    def __init__(self) -> None:
        self.idh, self.gkey, self.prio, self.loc, self.ekey = (array("Q") for _ in range(5))
        self.seed, self.item, self.sidx = array("I"), array("I"), array("I")
        self.type = bytearray()
        self.seed_names: list[str] = []
        self.type_names: list[str] = []
        self._codes: dict[str, int] = {}
        self.code = bytearray()
        self.detail: dict[int, int | str] = {}  # row -> kept duplicate's row / test problem id
        self.qkey_of: dict[int, int] = {}  # contaminated row -> its query hash

    def __len__(self) -> int:
        return len(self.idh)

    def add(
        self,
        rid: str,
        type_: str,
        seed: str,
        qkey: int,
        loc: int,
        ekey: int,
        salt: int,
        item: int = 0,
    ) -> None:
        self.idh.append(_h64(rid))
        self.item.append(item)
        self.sidx.append(sample_index(rid))
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


def assemble(
    cfg: AugmentConfig, work_dirs: list[Path], run_dir: Path, extra: dict[str, Any] | None = None
) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files = [Path(w) / FILES["solve"] for w in work_dirs if (Path(w) / FILES["solve"]).exists()]
    contam = Contamination(cfg)
    t = Table()
    items = Items()
    many = len(files) > 1
    seen_ids: set[str] = set()  # only for a merge: the same row in two runs counts once
    tally: dict[str, Counter] = defaultdict(Counter)  # technique -> samples, reject reasons
    bad = array("Q")  # packed file positions of the rows the grader rejected
    bad_key = array("Q")  # ... and their order key (see _order_key)
    near = cfg.near_dup_threshold < 1.0
    for fi, path in enumerate(files):
        for off, r in _lines(path):
            if many:
                if r["id"] in seen_ids:
                    continue
                seen_ids.add(r["id"])
            tally[r["technique"]]["samples"] += 1
            ic = items.code(r)
            items.samples[ic] += 1
            if not r.get("correct"):
                tally[r["technique"]][r["reason"]] += 1
                bad.append(fi << 48 | off)
                bad_key.append(_order_key(r["item_id"], sample_index(r["id"])))
                continue
            items.correct[ic] += 1
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
                ic,
            )
            hit = contam.check(qk, r["query"])
            if hit:
                t.drop(i, CONTAMINATED, hit[0])
                t.qkey_of[i] = qk
    del seen_ids
    _exact_duplicates(t)
    if near:
        _near_duplicates(t, files, cfg.near_dup_threshold)
    targets = budget_targets(cfg, work_dirs)
    _budget_cap(cfg, t, items, targets)
    _cap_and_target(cfg, t)
    # Output order: by type, then by a hash of the id (a fixed shuffle, independent of file order)
    order = [_TYPE_ORDER.get(name, 99) for name in t.type_names]
    chosen = sorted(
        (i for i in range(len(t)) if t.code[i] == KEEP), key=lambda i: (order[t.type[i]], t.idh[i])
    )
    for i in chosen:
        items.kept[t.item[i]] += 1
    # rejected.jsonl order: by question (a hash), then sample index; independent of file order
    bad_sorted = [bad[j] for j in sorted(range(len(bad)), key=bad_key.__getitem__)]
    item_key = [_h64(n) for n in items.names]
    dropped = sorted(
        (i for i in range(len(t)) if t.code[i] != KEEP),
        key=lambda i: (item_key[t.item[i]], t.sidx[i]),
    )
    votes = read_votes(work_dirs)
    examples, by_source, rejected = write_outputs(
        files,
        [Path(w) for w in work_dirs],
        t,
        chosen,
        bad_sorted,
        dropped,
        run_dir,
        cfg,
        contam,
        votes,
        REASON,
    )
    extra = dict(extra or {})
    extra["failed_requests"] = sum(len(failed_requests(Path(w))) for w in work_dirs)
    extra["seed_rows_rejected"] = sum(
        sum(1 for _ in read_jsonl(Path(w) / SEED_REJECTS))
        for w in work_dirs
        if (Path(w) / SEED_REJECTS).exists()
    )
    stats = build_stats(
        cfg,
        [Path(w) for w in work_dirs],
        tally,
        t,
        chosen,
        REASON,
        contam.ngram,
        contam.missing,
        extra,
    )
    stats["decontamination"].update(contam.stats(t))
    stats["budget"] = coverage_stats(cfg, items, targets)
    stats["gold_source"] = dict(sorted(by_source.items()))
    if votes:
        stats["vote"] = {k: v for k, v in votes.items() if k != "rejections"}
    write_json(run_dir / "stats.json", stats)
    write_card(run_dir, cfg, stats, examples, rejected)
    return stats


def _order_key(item_id: str, sidx: int) -> int:
    """A question's rows together, in sample order; questions in a fixed hash order."""
    return (_h64(item_id) & ~0xFFFFF) | min(sidx, 0xFFFFF)


def _budget_cap(cfg: AugmentConfig, t: Table, items: Items, targets: dict[str, int]) -> None:
    """A budgeted question keeps its first `target` surviving samples (budget.py counted them
    the same way); the rest are over_budget."""
    techniques = budgeted(cfg)
    if not techniques:
        return
    from metamath.augment.config import TECHNIQUE_FIELDS

    live = sorted(
        (i for i in range(len(t)) if t.code[i] == KEEP),
        key=lambda i: (t.item[i], t.sidx[i]),
    )
    count: Counter = Counter()
    for i in live:
        it = t.item[i]
        tech = TECHNIQUE_FIELDS[items.tech[it]]
        if tech not in techniques:
            continue
        count[it] += 1
        if count[it] > targets.get(items.names[it], getattr(cfg, tech).k):
            t.drop(i, OVER_BUDGET)


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
                c = read_at(files, handles, t.loc[i])
                resp = format_response(c["response"], c["target"], c["kind"])
                rows.append(((t.sidx[i], t.idh[i]), shingles(resp, words)))  # sample order
            by_id = {(t.sidx[i], t.idh[i]): i for i in live}
            for h in near_duplicates(rows, threshold):
                t.drop(by_id[h], NEAR_DUPLICATE)
    finally:
        for f in handles.values():
            f.close()


def _exact_duplicates(t: Table) -> None:
    """Among rows with the same (query, response), keep one (the first sample of the question;
    the choice does not depend on file order)."""
    for run in _runs(t.ekey):
        keep = min(run, key=lambda j: (t.sidx[j], t.idh[j]))
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
