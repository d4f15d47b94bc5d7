"""The LLM stages: rewrite (rephrase, SV statements), then solve (all four techniques).

Every output row has a deterministic id and is appended to a JSONL file in <run>/work/ as its
request finishes; a request whose rows are all written is skipped on resume, so a killed run
continues where it stopped and costs no repeated requests (the LLM cache covers the rest).

    work/masks.jsonl          {seed}/m{j}               each masked question and its check
    work/rephrasings.jsonl    {seed}/rephrase/r{i}      the rephrasing and its check
    work/statements.jsonl     {seed}/sv/m{j}/r{i}       the SV statement and its check
    work/candidates.jsonl     {item}/s{k}               a sampled solution, graded
    work/requests.jsonl       one line per LLM request (tokens, errors), for stats.json
(config.FILES names them all; a candidate row is a records.Candidate.)

An item is one question to solve (a seed question, a rephrasing, an SV or FOBAR question). Its
samples are numbered 0, 1, 2, ... for good: a block of samples [start, start + n) is one request
with seed sample_seed(item) + start (sample i of seed s is sample 0 of seed s + i, the cache's
and the openai fan-out's convention), so the ids, the cache keys and the samples themselves are
the same whichever rounds ask for them (augment/budget.py) and whenever a run resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metamath.augment.answer_aug import exemplar_pool, exemplars_for
from metamath.augment.config import FILES, AugmentConfig, TechniqueConfig
from metamath.augment.filter import cut_run_on, grade_task, judge
from metamath.augment.fobar import Masked, backward_masks, fobar_items, mask_index
from metamath.augment.rephrase import check_rephrasing
from metamath.augment.seeds import Seed
from metamath.augment.self_verification import check_statement, split_question
from metamath.io import JsonlWriter, done_ids, read_jsonl
from metamath.llm.base import LLM, Completion, Request, Result
from metamath.prompts.augment import render, sv_question
from metamath.records import Candidate, type_name


@dataclass
class Job:
    """One LLM request and what to write for each of its samples."""

    request: Request
    technique: str  # answer_aug | rephrase | fobar | self_verification | sv_rewrite | vote
    out_ids: list[str]  # one row id per sample index
    # (row id, Completion) -> its row: a Candidate (solving) or a dict (rewrites, votes)
    on_sample: Callable[[str, Completion], Candidate | dict]


def sample_seed(cfg: AugmentConfig, rid: str) -> int:
    """The sampling seed of an item's sample 0 (sample i: this + i)."""
    return int.from_bytes(
        hashlib.blake2b(f"{cfg.seed}/{rid}".encode(), digest_size=4).digest(), "big"
    )


def _request(
    cfg: AugmentConfig,
    rid: str,
    tc: TechniqueConfig,
    technique: str,
    kind: str,
    question: str,
    n: int,
    start: int = 0,
    **kw,
) -> tuple[Request, str]:
    r = render(technique, kind, question=question, style=cfg.style, **kw)
    # A per-request sampling seed: backends that honour it (hf, vllm; OpenAI best-effort)
    # redraw the same samples after a crash even without the cache.
    seed = sample_seed(cfg, rid) + start
    req = Request(
        id=rid if start == 0 else f"{rid}@{start}",
        prompt=r.prompt,
        messages=r.messages,
        n=n,
        seed=seed,
        temperature=tc.temperature,
        max_tokens=tc.max_tokens,
        stop=r.stop,
    )
    return req, r.version


@dataclass(frozen=True)
class Item:
    """One question to solve: what its requests are built from (no prompt rendered yet)."""

    technique: str  # answer_aug | rephrase | fobar | self_verification
    item_id: str
    seed: Seed
    query: str
    target: str  # the answer a sample must reach
    extra: dict = field(default_factory=dict)  # provenance written into every row
    kw: dict = field(default_factory=dict)  # template arguments (exemplars, shots)


def sample_ids(item_id: str, start: int, n: int) -> list[str]:
    """The ids of samples [start, start + n) of a question."""
    return [f"{item_id}/s{i}" for i in range(start, start + n)]


def sample_index(row_id: str) -> int:
    """A sample's index within its question: the i of f"{item_id}/s{i}"."""
    return int(row_id.rsplit("/s", 1)[1])


def solve_job(cfg: AugmentConfig, item: Item, start: int = 0, n: int | None = None) -> Job:
    """The request for samples [start, start + n) of an item (default: technique k from 0)."""
    tc = getattr(cfg, item.technique)
    n = tc.k if n is None else n
    seed = item.seed
    template = "answer_aug" if item.technique == "rephrase" else item.technique  # forward solve
    req, version = _request(
        cfg, item.item_id, tc, template, seed.kind, item.query, n, start, **item.kw
    )
    task = grade_task(seed.kind, item.technique)
    base = dict(
        item_id=item.item_id,
        seed_id=seed.id,
        technique=item.technique,
        type=type_name(seed.kind, item.technique),
        kind=seed.kind,
        query=item.query,
        original_question=seed.question,
        target=item.target,
        task=task,
        prompt_version=version,
        gold_source=seed.gold_source,
        level=seed.problem.level,
        **item.extra,
    )
    target, mode, timeout = item.target, cfg.grade_mode, cfg.grade_timeout

    def on_sample(row_id: str, c: Completion) -> Candidate:
        text = cut_run_on(c.text)  # an invented follow-up question is never graded
        cut = text != c.text.rstrip()
        finish = "stop" if cut else c.finish_reason
        ok, reason, got = judge(text, target, task, finish, mode, timeout)
        return Candidate(
            id=row_id,
            **base,
            response=text,
            raw_response=c.text if cut else None,
            finish_reason=finish,
            correct=ok,
            reason=reason,
            extracted=got,
        )

    return Job(req, item.technique, sample_ids(item.item_id, start, n), on_sample)


def rewrite_jobs(cfg: AugmentConfig, seeds: list[Seed]) -> Iterator[Job]:
    """Stage 1: rephrasings of each seed; declarative statements of each masked question."""
    for seed in seeds:
        if cfg.rephrase.enabled:
            yield _rephrase_job(cfg, seed)
        if cfg.self_verification.enabled:
            for m in backward_masks(seed, cfg.self_verification.max_masks):
                split = split_question(m.question, seed.kind)
                if split is not None:
                    yield _statement_job(cfg, seed, m, *split)


def _rephrase_job(cfg: AugmentConfig, seed: Seed) -> Job:
    def checked(c: Completion) -> dict:
        text, reason = check_rephrasing(seed.question, c.text, seed.gold, seed.kind)
        if reason is None and c.finish_reason == "length":
            reason = "truncated"
        return {"text": text, "raw": c.text, "reason": reason}

    rid, tc = f"{seed.id}/rephrase", cfg.rephrase
    return _rewrite_job(cfg, seed, rid, "rephrase", "rephrase", tc, seed.question, checked)


def _statement_job(cfg: AugmentConfig, seed: Seed, m: Masked, base: str, sentence: str) -> Job:
    """The SV statement of one masked question: its question sentence said as a fact."""

    def checked(c: Completion) -> dict:
        st, reason = check_statement(
            c.text, sentence, seed.gold, m.var, m.value, m.question, seed.kind
        )
        query = sv_question(base, st, m.var) if reason is None else None
        return {"text": st, "raw": c.text, "reason": reason, "query": query, "mask": m.to_dict()}

    rid, tc = f"{seed.id}/sv/m{mask_index(m)}", cfg.self_verification
    return _rewrite_job(
        cfg, seed, rid, "self_verification", "sv_rewrite", tc, sentence, checked, answer=seed.gold
    )


def _rewrite_job(
    cfg: AugmentConfig,
    seed: Seed,
    rid: str,
    technique: str,
    stage: str,
    tc: TechniqueConfig,
    text: str,
    checked: Callable[[Completion], dict],
    **kw: Any,
) -> Job:
    """One stage-1 request: tc.k_rewrite rewrites of `text`, each a row with its check."""
    req, version = _request(
        cfg, rid, tc, stage, seed.kind, text, tc.k_rewrite, shots=cfg.shots, **kw
    )

    def on_sample(row_id: str, c: Completion) -> dict:
        head = {"id": row_id, "seed_id": seed.id, "technique": technique, "stage": stage}
        return {**head, **checked(c), "prompt_version": version}

    return Job(req, stage, [f"{rid}/r{i}" for i in range(tc.k_rewrite)], on_sample)


def solve_items(
    cfg: AugmentConfig, seeds: list[Seed], work: Path, pool: list[Seed] | None = None
) -> Iterator[Item]:
    """Stage 2: the questions every technique solves (after stage 1 has finished).

    pool: the seeds answer_aug demos are drawn from: all seeds, not only this shard's, so a
    sharded run sends exactly the prompts an unsharded run would."""
    by_id = {s.id: s for s in seeds}
    pools = demo_pools(cfg, seeds, pool)
    for seed in seeds:
        if cfg.answer_aug.enabled:
            demos = exemplars_for(pools[seed.kind], cfg.shots, seed.id)
            yield Item(
                "answer_aug",
                f"{seed.id}/answer_aug",
                seed,
                seed.question,
                seed.gold,
                kw={"exemplars": demos},
            )
        if cfg.fobar.enabled:
            for item_id, q, m in fobar_items(seed, cfg.fobar.max_masks):
                yield Item(
                    "fobar", item_id, seed, q, m.value, {"mask": m.to_dict()}, {"shots": cfg.shots}
                )
    for row in accepted(work / FILES["rephrase"]):
        seed = by_id.get(row["seed_id"])
        if seed is not None:
            demos = exemplars_for(pools[seed.kind], cfg.shots, seed.id)
            yield Item(
                "rephrase",
                row["id"],
                seed,
                row["text"],
                seed.gold,
                {"rephrasing_id": row["id"]},
                {"exemplars": demos},
            )
    for row in accepted(work / FILES["sv_rewrite"]):
        seed = by_id.get(row["seed_id"])
        if seed is not None:
            yield Item(
                "self_verification",
                row["id"],
                seed,
                row["query"],
                row["mask"]["value"],
                {"mask": row["mask"]},
                {"shots": cfg.shots},
            )


def demo_pools(
    cfg: AugmentConfig, seeds: list[Seed], pool: list[Seed] | None = None
) -> dict[str, list]:
    """The answer_aug demos of each kind of seed, drawn once per run from `pool`."""
    pool = seeds if pool is None else pool
    return {
        kind: exemplar_pool([s for s in pool if s.kind == kind], cfg.shots, cfg.seed)
        for kind in {s.kind for s in seeds}
    }


def accepted(path: Path) -> Iterator[dict]:
    """Stage-1 rows that passed their checks, one per distinct text per seed, in id order
    (a rephrasing the teacher produced twice is solved once)."""
    if not path.exists():
        return
    rows = sorted(
        (r for _, r in read_jsonl(path) if r.get("reason") is None), key=lambda r: r["id"]
    )
    seen = set()
    for r in rows:
        key = (r["id"].rsplit("/r", 1)[0], " ".join(r["text"].split()))
        if key not in seen:
            seen.add(key)
            yield r


def run_jobs(
    llm: LLM,
    jobs: Iterable[Job],
    out_path: Path,
    log_path: Path,
    batch_size: int,
    desc: str,
    progress: bool = False,
    done: set[str] | None = None,
) -> int:
    """Run every job not yet done; append its rows and a request log line. Returns requests.
    done: the ids already in out_path, when the caller keeps them (rows written here are added)."""
    done = done_ids(out_path) if done is None else done
    todo = [j for j in jobs if not all(i in done for i in j.out_ids)]
    if not todo:
        return 0
    bar = None
    if progress:
        from metamath.progress import bar as progress_bar

        bar = progress_bar(len(todo), desc, "req")  # ETA measured after the first request
    by_id = {j.request.id: j for j in todo}
    # a line torn by a crash is cut (JsonlWriter, mode "a"); its request is redone
    with JsonlWriter(out_path) as out, JsonlWriter(log_path) as log:
        for start in range(0, len(todo), batch_size):
            batch = [j.request for j in todo[start : start + batch_size]]
            for res in llm.generate(batch):
                _write(by_id[res.request.id], res, done, out, log)
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    return len(todo)


def _write(job: Job, res: Result, done: set, out: JsonlWriter, log: JsonlWriter) -> None:
    """A request's rows in one write and one flush: a crash leaves whole requests (plus at most
    one torn line, cut on resume), and a request with a missing row is simply asked again."""
    comps = sorted(res.completions, key=lambda c: c.index)
    fresh = [c for c in comps if c.index < len(job.out_ids) and job.out_ids[c.index] not in done]
    out.write_rows(_row(job, c) for c in fresh)
    done.update(job.out_ids[c.index] for c in fresh)
    log.write(
        {
            "id": res.request.id,
            "technique": job.technique,
            "n": res.request.n,
            "samples": len(comps),
            "error": res.error,
            "retries": res.retries,
            "prompt_tokens": max((c.prompt_tokens for c in comps), default=0),
            "completion_tokens": sum(c.completion_tokens for c in comps),
            "cached": sum(1 for c in comps if c.cached),
        }
    )


def _row(job: Job, c: Completion) -> dict:
    """A sample's row; a failed sample (the server sent no text for it) is a rejection with
    its error, written like any other row so that a re-run does not ask for it again."""
    row = job.on_sample(job.out_ids[c.index], c)
    if isinstance(row, Candidate):
        if c.error is not None:
            row = dataclasses.replace(row, reason="no_content", error=c.error, correct=False)
        return row.to_dict()
    return row if c.error is None else {**row, "reason": "no_content", "error": c.error}
