"""Assembly: graded candidates -> metamathqa.jsonl, rejected.jsonl, stats.json, DATA_CARD.md.

    stats = assemble(cfg, [run_dir / "work"], run_dir)     # several work dirs = a shard merge

Steps (method reference 1.7; none of them is in the original repository): keep correct samples;
drop exact (query, response) duplicates, queries that overlap a test set (a shared word n-gram,
or a paraphrase: minhash.py), and near-duplicate responses of the same query (both in sample
order, so the first samples of a question are the ones kept); keep the first `target` of a
budgeted question (budget.py; the rest: over_budget); cap rows per (seed question, type);
subsample each type to its target with a seeded hash priority; write the answer line in
MetaMathQA form. Two streaming passes over the candidate files: the first keeps a small tuple
per correct row (no text; table.Table), the second reads the chosen rows back by file offset
in (type, id) order, so the output does not depend on the order the rows were written in
(resumed and sharded runs give the same file; rejected.jsonl too: its rows are ordered by a
hash of the question, then sample index). Memory: about 60 bytes per correct row in flat
arrays, plus per-question counters (coverage.Items) and transient sort lists; never the text.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metamath.augment.budget import budget_targets, budgeted
from metamath.augment.card import write_card
from metamath.augment.config import FILES, AugmentConfig
from metamath.augment.coverage import Items, coverage_stats
from metamath.augment.decontaminate import Contamination
from metamath.augment.dedup import exact_key, near_duplicates, shingles
from metamath.augment.filter import format_response
from metamath.augment.generate import sample_index
from metamath.augment.outputs import (
    failed_requests,
    sample_rejections,
    write_dataset,
    write_rejected,
)
from metamath.augment.report import build_stats
from metamath.augment.table import (
    CONTAMINATED,
    DUPLICATE,
    NEAR_DUPLICATE,
    OVER_BUDGET,
    OVER_TARGET,
    SEED_CAP,
    CandidateFiles,
    Table,
    h64,
    runs,
)
from metamath.augment.vote import read_votes
from metamath.io import read_jsonl, write_json
from metamath.records import TECHNIQUES, TYPES, Candidate

_TYPE_ORDER = {t: i for i, t in enumerate(TYPES)}


@dataclass
class Pass1:
    """What the first pass keeps: the correct rows (t), per-question counters (items), samples
    and grader rejections per technique (tally), and the rejected rows' positions (bad)."""

    t: Table = field(default_factory=Table)
    items: Items = field(default_factory=Items)
    tally: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    bad: list[int] = field(default_factory=list)  # in rejected.jsonl order


def assemble(
    cfg: AugmentConfig, work_dirs: list[Path], run_dir: Path, extra: dict[str, Any] | None = None
) -> dict:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    work_dirs = [Path(w) for w in work_dirs]
    paths = [w / FILES["solve"] for w in work_dirs if (w / FILES["solve"]).exists()]
    contam = Contamination(cfg)
    votes = read_votes(work_dirs)
    with CandidateFiles(paths) as files:
        p = first_pass(cfg, files, contam)
        targets = select(cfg, p, files, work_dirs)
        chosen, dropped = _order(p)
        examples, by_source = write_dataset(
            run_dir / "metamathqa.jsonl", files, p.t, chosen, cfg.examples_in_card
        )
        samples = sample_rejections(files, p.t, p.bad, dropped, contam)
        rejected = write_rejected(
            run_dir / "rejected.jsonl", work_dirs, samples, votes, cfg.examples_in_card * 8
        )
    stats = build_stats(cfg, work_dirs, p.tally, p.t, chosen, contam, _extra(work_dirs, extra))
    stats["budget"] = coverage_stats(cfg, p.items, targets)
    stats["gold_source"] = dict(sorted(by_source.items()))
    if votes:
        stats["vote"] = {k: v for k, v in votes.items() if k != "rejections"}
    write_json(run_dir / "stats.json", stats)
    write_card(run_dir, cfg, stats, examples, rejected)
    return stats


def first_pass(cfg: AugmentConfig, files: CandidateFiles, contam: Contamination) -> Pass1:
    """Count every sample; keep a row of the table per correct one (contaminated ones dropped
    at once); remember where the grader's rejections are."""
    p = Pass1()
    seen_ids: set[str] | None = set() if len(files.paths) > 1 else None  # a merge: once each
    bad, bad_key = array("Q"), array("Q")
    for loc, c in files.scan():
        if seen_ids is not None:
            if c.id in seen_ids:
                continue
            seen_ids.add(c.id)
        p.tally[c.technique]["samples"] += 1
        ic = p.items.code(c)
        p.items.samples[ic] += 1
        if not c.correct:
            p.tally[c.technique][c.reason] += 1
            bad.append(loc)
            bad_key.append(_order_key(c.item_id, sample_index(c.id)))
            continue
        p.items.correct[ic] += 1
        _add(cfg, p.t, c, loc, ic, contam)
    # rejected.jsonl order: by question (a hash), then sample index; independent of file order
    p.bad = [bad[j] for j in sorted(range(len(bad)), key=bad_key.__getitem__)]
    return p


def _add(
    cfg: AugmentConfig, t: Table, c: Candidate, loc: int, item: int, contam: Contamination
) -> None:
    qk = h64(c.query)
    resp = format_response(c.response, c.target, c.kind)
    i = len(t)
    t.add(c, qk, loc, int.from_bytes(exact_key(c.query, resp), "big"), cfg.seed, item)
    hit = contam.check(qk, c.query)
    if hit:
        t.drop(i, CONTAMINATED, hit[0])
        t.qkey_of[i] = qk


def select(
    cfg: AugmentConfig, p: Pass1, files: CandidateFiles, work_dirs: list[Path]
) -> dict[str, int]:
    """Drop duplicates, near-duplicates, samples over a question's budget, over max_per_seed
    and over a type's target, in that order; returns the budget targets used."""
    _exact_duplicates(p.t)
    if cfg.near_dup_threshold < 1.0:
        _near_duplicates(p.t, files, cfg.near_dup_threshold)
    targets = budget_targets(cfg, work_dirs)
    _budget_cap(cfg, p, targets)
    _cap_and_target(cfg, p.t)
    return targets


def _order(p: Pass1) -> tuple[list[int], list[int]]:
    """(kept rows in output order, dropped rows in rejected.jsonl order). Output: by type,
    then by a hash of the id (a fixed shuffle, independent of file order)."""
    t = p.t
    order = [_TYPE_ORDER.get(name, 99) for name in t.type_names]
    chosen = sorted(t.live(), key=lambda i: (order[t.type[i]], t.idh[i]))
    for i in chosen:
        p.items.kept[t.item[i]] += 1
    item_key = [h64(n) for n in p.items.names]
    dropped = sorted(
        (i for i in range(len(t)) if t.reason(i)), key=lambda i: (item_key[t.item[i]], t.sidx[i])
    )
    return chosen, dropped


def _extra(work_dirs: list[Path], extra: dict[str, Any] | None) -> dict[str, Any]:
    """The caller's stats (seeds, teacher, shard, ...), plus the losses before solving."""
    out = dict(extra or {})
    out["failed_requests"] = sum(len(failed_requests(w)) for w in work_dirs)
    rejects = [w / FILES["seed_rejects"] for w in work_dirs]
    out["seed_rows_rejected"] = sum(sum(1 for _ in read_jsonl(r)) for r in rejects if r.exists())
    return out


def _order_key(item_id: str, sidx: int) -> int:
    """A question's rows together, in sample order; questions in a fixed hash order."""
    return (h64(item_id) & ~0xFFFFF) | min(sidx, 0xFFFFF)


def _budget_cap(cfg: AugmentConfig, p: Pass1, targets: dict[str, int]) -> None:
    """A budgeted question keeps its first `target` surviving samples (budget.py counted them
    the same way); the rest are over_budget."""
    techniques = budgeted(cfg)
    if not techniques:
        return
    t, items = p.t, p.items
    count: Counter = Counter()
    for i in sorted(t.live(), key=lambda i: (t.item[i], t.sidx[i])):
        it = t.item[i]
        tech = TECHNIQUES[items.tech[it]]
        if tech not in techniques:
            continue
        count[it] += 1
        if count[it] > targets.get(items.names[it], getattr(cfg, tech).k):
            t.drop(i, OVER_BUDGET)


def _near_duplicates(t: Table, files: CandidateFiles, threshold: float) -> None:
    """Within each (seed, type, query) group, read the responses back and drop near-copies."""
    words: dict[str, int] = {}  # word -> crc32, shared by every group
    for members in runs(t.gkey):
        live = [i for i in members if not t.reason(i)]
        if len(live) < 2:
            continue
        rows = []
        for i in live:
            c = files.at(t.loc[i])
            resp = format_response(c.response, c.target, c.kind)
            rows.append(((t.sidx[i], t.idh[i]), shingles(resp, words)))  # sample order
        by_id = {(t.sidx[i], t.idh[i]): i for i in live}
        for h in near_duplicates(rows, threshold):
            t.drop(by_id[h], NEAR_DUPLICATE)


def _exact_duplicates(t: Table) -> None:
    """Among rows with the same (query, response), keep one (the first sample of the question;
    the choice does not depend on file order)."""
    for run in runs(t.ekey):
        keep = min(run, key=lambda j: (t.sidx[j], t.idh[j]))
        for j in run:
            if j != keep:
                t.drop(j, DUPLICATE, keep)


def _cap_and_target(cfg: AugmentConfig, t: Table) -> None:
    # 64-bit hash priorities: ties are as good as impossible, so no id tie-break is needed
    live = sorted(t.live(), key=t.prio.__getitem__)
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
        if t.reason(i) or name not in cfg.targets:
            continue
        per_type[name] += 1
        if per_type[name] > cfg.targets[name]:
            t.drop(i, OVER_TARGET)
