"""The LLM stages: rewrite (rephrase, SV statements), then solve (all four techniques).

Every output row has a deterministic id and is appended to a JSONL file in <run>/work/ as its
request finishes; a request whose rows are all written is skipped on resume, so a killed run
continues where it stopped and costs no repeated requests (the LLM cache covers the rest).

    work/masks.jsonl          {seed}/m{j}               each masked question and its check
    work/rephrasings.jsonl    {seed}/rephrase/r{i}      the rephrasing and its check
    work/statements.jsonl     {seed}/sv/m{j}/r{i}       the SV statement and its check
    work/candidates.jsonl     {item}/s{k}               a sampled solution, graded
    work/requests.jsonl       one line per LLM request (tokens, errors), for stats.json
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from metamath.augment.answer_aug import exemplar_pool, exemplars_for
from metamath.augment.config import AugmentConfig, TechniqueConfig, type_name
from metamath.augment.filter import cut_run_on, grade_task, judge
from metamath.augment.fobar import backward_masks, fobar_items, mask_index
from metamath.augment.rephrase import check_rephrasing
from metamath.augment.seeds import Seed
from metamath.augment.self_verification import check_statement, split_question
from metamath.io import done_ids, read_jsonl, repair_jsonl
from metamath.llm.base import LLM, Request, Result
from metamath.prompts.augment import render, sv_question

FILES = {
    "masks": "masks.jsonl",
    "rephrase": "rephrasings.jsonl",
    "sv_rewrite": "statements.jsonl",
    "solve": "candidates.jsonl",
    "requests": "requests.jsonl",
}


@dataclass
class Job:
    """One LLM request and what to write for each of its samples."""

    request: Request
    technique: str  # answer_aug | rephrase | fobar | self_verification | sv_rewrite
    out_ids: list[str]  # one row id per sample index
    on_sample: Callable[[str, Any], dict]  # (row id, Completion) -> row


def _request(
    cfg: AugmentConfig,
    rid: str,
    tc: TechniqueConfig,
    technique: str,
    kind: str,
    question: str,
    n: int,
    **kw,
) -> tuple[Request, str]:
    r = render(technique, kind, question=question, style=cfg.style, **kw)
    # A per-request sampling seed: backends that honour it (hf, vllm; OpenAI best-effort)
    # redraw the same samples after a crash even without the cache.
    seed = int.from_bytes(
        hashlib.blake2b(f"{cfg.seed}/{rid}".encode(), digest_size=4).digest(), "big"
    )
    req = Request(
        id=rid,
        prompt=r.prompt,
        messages=r.messages,
        n=n,
        seed=seed,
        temperature=tc.temperature,
        max_tokens=tc.max_tokens,
        stop=r.stop,
    )
    return req, r.version


def _solve_job(
    cfg: AugmentConfig,
    technique: str,
    seed: Seed,
    item_id: str,
    query: str,
    target: str,
    extra: dict,
    **kw,
) -> Job:
    tc = getattr(cfg, technique)
    template = "answer_aug" if technique == "rephrase" else technique  # rephrasings solve forward
    req, version = _request(cfg, item_id, tc, template, seed.kind, query, tc.k, **kw)
    task = grade_task(seed.kind, technique)
    base = {
        "item_id": item_id,
        "seed_id": seed.id,
        "technique": technique,
        "type": type_name(seed.kind, technique),
        "kind": seed.kind,
        "query": query,
        "original_question": seed.question,
        "target": target,
        "task": task,
        "prompt_version": version,
        **extra,
    }

    def on_sample(row_id: str, c) -> dict:
        text = cut_run_on(c.text)  # an invented follow-up question is never graded
        finish = "stop" if text != c.text.rstrip() else c.finish_reason
        ok, reason, got = judge(text, target, task, finish, cfg.grade_mode, cfg.grade_timeout)
        return {
            "id": row_id,
            **base,
            "response": text,
            **({"raw_response": c.text} if text != c.text.rstrip() else {}),
            "finish_reason": finish,
            "correct": ok,
            "reason": reason,
            "extracted": got,
        }

    return Job(req, technique, [f"{item_id}/s{k}" for k in range(tc.k)], on_sample)


def rewrite_jobs(cfg: AugmentConfig, seeds: list[Seed]) -> Iterator[Job]:
    """Stage 1: rephrasings of each seed; declarative statements of each masked question."""
    for seed in seeds:
        if cfg.rephrase.enabled:
            tc = cfg.rephrase
            req, version = _request(
                cfg,
                f"{seed.id}/rephrase",
                tc,
                "rephrase",
                seed.kind,
                seed.question,
                tc.k_rewrite,
                shots=cfg.shots,
            )

            def on_rephrase(row_id: str, c, seed=seed, version=version) -> dict:
                text, reason = check_rephrasing(seed.question, c.text, seed.gold, seed.kind)
                if reason is None and c.finish_reason == "length":
                    reason = "truncated"
                return {
                    "id": row_id,
                    "seed_id": seed.id,
                    "technique": "rephrase",
                    "stage": "rephrase",
                    "text": text,
                    "raw": c.text,
                    "reason": reason,
                    "prompt_version": version,
                }

            yield Job(
                req,
                "rephrase",
                [f"{seed.id}/rephrase/r{i}" for i in range(tc.k_rewrite)],
                on_rephrase,
            )
        if cfg.self_verification.enabled:
            tc = cfg.self_verification
            for m in backward_masks(seed, tc.max_masks):
                j = mask_index(m)
                split = split_question(m.question, seed.kind)
                if split is None:
                    continue
                base, sentence = split
                req, version = _request(
                    cfg,
                    f"{seed.id}/sv/m{j}",
                    tc,
                    "sv_rewrite",
                    seed.kind,
                    sentence,
                    tc.k_rewrite,
                    answer=seed.gold,
                    shots=cfg.shots,
                )

                def on_statement(
                    row_id: str, c, m=m, base=base, sentence=sentence, version=version, seed=seed
                ) -> dict:
                    st, reason = check_statement(
                        c.text, sentence, seed.gold, m.var, m.value, m.question, seed.kind
                    )
                    query = sv_question(base, st, m.var) if reason is None else None
                    return {
                        "id": row_id,
                        "seed_id": seed.id,
                        "technique": "self_verification",
                        "stage": "sv_rewrite",
                        "text": st,
                        "raw": c.text,
                        "reason": reason,
                        "query": query,
                        "mask": m.to_dict(),
                        "prompt_version": version,
                    }

                yield Job(
                    req,
                    "sv_rewrite",
                    [f"{seed.id}/sv/m{j}/r{i}" for i in range(tc.k_rewrite)],
                    on_statement,
                )


def solve_jobs(
    cfg: AugmentConfig, seeds: list[Seed], work: Path, pool: list[Seed] | None = None
) -> Iterator[Job]:
    """Stage 2: the solver requests of every technique (after stage 1 has finished).

    pool: the seeds answer_aug demos are drawn from: all seeds, not only this shard's, so a
    sharded run sends exactly the prompts an unsharded run would."""
    by_id = {s.id: s for s in seeds}
    pool = seeds if pool is None else pool
    pools = {
        kind: exemplar_pool([s for s in pool if s.kind == kind], cfg.shots, cfg.seed)
        for kind in {s.kind for s in seeds}
    }
    for seed in seeds:
        if cfg.answer_aug.enabled:
            demos = exemplars_for(pools[seed.kind], cfg.shots, seed.id)
            yield _solve_job(
                cfg,
                "answer_aug",
                seed,
                f"{seed.id}/answer_aug",
                seed.question,
                seed.gold,
                {},
                exemplars=demos,
            )
        if cfg.fobar.enabled:
            for item_id, q, m in fobar_items(seed, cfg.fobar.max_masks):
                yield _solve_job(
                    cfg, "fobar", seed, item_id, q, m.value, {"mask": m.to_dict()}, shots=cfg.shots
                )
    for row in accepted(work / FILES["rephrase"]):
        seed = by_id.get(row["seed_id"])
        if seed is not None:
            demos = exemplars_for(pools[seed.kind], cfg.shots, seed.id)
            yield _solve_job(
                cfg,
                "rephrase",
                seed,
                row["id"],
                row["text"],
                seed.gold,
                {"rephrasing_id": row["id"]},
                exemplars=demos,
            )
    for row in accepted(work / FILES["sv_rewrite"]):
        seed = by_id.get(row["seed_id"])
        if seed is not None:
            yield _solve_job(
                cfg,
                "self_verification",
                seed,
                row["id"],
                row["query"],
                row["mask"]["value"],
                {"mask": row["mask"]},
                shots=cfg.shots,
            )


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
    jobs: Iterator[Job],
    out_path: Path,
    log_path: Path,
    batch_size: int,
    desc: str,
    progress: bool = False,
) -> int:
    """Run every job not yet done; append its rows and a request log line. Returns requests."""
    done = done_ids(out_path)
    todo = [j for j in jobs if not all(i in done for i in j.out_ids)]
    if not todo:
        return 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=desc, unit="req")
    by_id = {j.request.id: j for j in todo}
    repair_jsonl(out_path)  # a line torn by a crash is cut; its request is redone
    repair_jsonl(log_path)
    with open(out_path, "a", encoding="utf-8") as out, open(log_path, "a", encoding="utf-8") as log:
        for start in range(0, len(todo), batch_size):
            batch = [j.request for j in todo[start : start + batch_size]]
            for res in llm.generate(batch):
                _write(by_id[res.request.id], res, done, out, log)
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    return len(todo)


def _write(job: Job, res: Result, done: set, out: IO[str], log: IO[str]) -> None:
    """A request's rows in one write and one flush: a crash leaves whole requests (plus at most
    one torn line, cut on resume), and a request with a missing row is simply asked again."""
    comps = sorted(res.completions, key=lambda c: c.index)
    lines = [
        json.dumps(job.on_sample(job.out_ids[c.index], c), ensure_ascii=False) + "\n"
        for c in comps
        if c.index < len(job.out_ids) and job.out_ids[c.index] not in done
    ]
    out.write("".join(lines))
    out.flush()
    log.write(
        json.dumps(
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
        + "\n"
    )
    log.flush()
