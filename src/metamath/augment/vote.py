"""Gold answers for seeds that have none: the teacher's own agreement (self-consistency).

    seeds, info = vote_golds(cfg, llm, seeds, pool, work, log)   # before stage 1

For every seed with gold_source "vote", vote.samples AnsAug samples are drawn (the same request
as AnsAug's first samples: same prompt, same seeds, so with the cache AnsAug later reuses them
and sends nothing twice). Each sample's answer is extracted by the grader (metamath.answers,
grade_mode), and answers are grouped by the grader's equivalence (is_equiv: "0.5" and "\\frac12"
are one answer). The largest group wins if it has at least vote.min_votes samples and at least
vote.min_agreement of all samples drawn (a sample without an answer counts against), and no
other group is as large. Then the seed gets that answer as its gold (gold_source "vote"; every
row built from it says so); otherwise it is a recorded rejection (stage "vote") with the reason:
no_answer, tie, too_few_votes or low_agreement, and the counts. A seed whose vote request failed
is left out of this run and retried on the next.

    work/votes.jsonl     {seed}/vote/s{i}     the sample's extracted answer
    work/votes.json      the decisions (summary, rejections), read by assembly and merges
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

from metamath.answers import extract, is_equiv
from metamath.augment.answer_aug import exemplars_for
from metamath.augment.config import FILES, AugmentConfig
from metamath.augment.filter import grade_task
from metamath.augment.generate import Item, demo_pools, run_jobs, sample_index, solve_job
from metamath.augment.seeds import Seed, normalise_gold
from metamath.io import read_jsonl, write_json
from metamath.llm.base import LLM


def _vote_job(cfg: AugmentConfig, seed: Seed, demos: list) -> Any:
    item = Item(
        "answer_aug", f"{seed.id}/answer_aug", seed, seed.question, "", kw={"exemplars": demos}
    )
    job = solve_job(cfg, item, 0, cfg.vote.samples)
    task = grade_task(seed.kind, "answer_aug")

    def on_sample(row_id: str, c) -> dict:
        got = None if c.finish_reason == "length" else extract(c.text, cfg.grade_mode, task)
        return {
            "id": row_id,
            "seed_id": seed.id,
            "extracted": got,
            "finish_reason": c.finish_reason,
            "response": c.text,
        }

    out_ids = [f"{seed.id}/vote/s{i}" for i in range(cfg.vote.samples)]
    return dataclasses.replace(job, technique="vote", out_ids=out_ids, on_sample=on_sample)


def decide(answers: list[str | None], cfg: AugmentConfig) -> tuple[str | None, dict]:
    """(the winning answer or None, the vote's record) for one question's samples, in order."""
    groups: list[list[Any]] = []  # [representative, votes, spellings]
    for a in answers:
        if a is None:
            continue
        for g in groups:
            if is_equiv(a, g[0], cfg.grade_timeout):
                g[1] += 1
                g[2][a] += 1
                break
        else:
            groups.append([a, 1, Counter({a: 1})])
    groups.sort(key=lambda g: -g[1])
    n = len(answers)
    rec = {
        "samples": n,
        "answered": sum(a is not None for a in answers),
        "groups": [[g[0], g[1]] for g in groups[:5]],
    }
    v = cfg.vote
    if not groups:
        reason = "no_answer"
    elif len(groups) > 1 and groups[1][1] == groups[0][1]:
        reason = "tie"
    elif groups[0][1] < v.min_votes:
        reason = "too_few_votes"
    elif groups[0][1] < v.min_agreement * n:
        reason = "low_agreement"
    else:
        rec["agreement"] = round(groups[0][1] / n, 4)
        return groups[0][2].most_common(1)[0][0], rec  # its most frequent spelling
    rec["reason"] = reason
    return None, rec


def vote_golds(
    cfg: AugmentConfig,
    llm: LLM,
    seeds: list[Seed],
    pool: list[Seed],
    work: Path,
    log: Path,
    progress: bool = False,
) -> tuple[list[Seed], dict[str, Any]]:
    """The seeds with voted golds filled in (those without agreement left out), and the vote's
    summary (counts, the rejections with reasons) for stats.json and rejected.jsonl."""
    todo = [s for s in seeds if s.gold_source == "vote"]
    if not todo:
        return seeds, {}
    pools = demo_pools(cfg, seeds, pool)
    path = work / FILES["votes"]
    jobs = (_vote_job(cfg, s, exemplars_for(pools[s.kind], cfg.shots, s.id)) for s in todo)
    run_jobs(llm, jobs, path, log, cfg.batch_size, "augment vote", progress)
    answers: dict[str, dict[int, str | None]] = {}
    for _, r in read_jsonl(path):
        answers.setdefault(r["seed_id"], {})[sample_index(r["id"])] = r["extracted"]
    out, rejected, reasons, pending = [], [], Counter(), 0
    for s in seeds:
        if s.gold_source != "vote":
            out.append(s)
            continue
        got = answers.get(s.id, {})
        if len(got) < cfg.vote.samples:
            pending += 1  # its request failed: retried on the next run
            continue
        gold, rec = decide([got[i] for i in range(cfg.vote.samples)], cfg)
        if gold is None:
            reasons[rec["reason"]] += 1
            rejected.append({"seed_id": s.id, "query": s.question, **rec})
            continue
        gold = normalise_gold(gold, s.kind)
        out.append(
            dataclasses.replace(s, gold=gold, problem=dataclasses.replace(s.problem, gold=gold))
        )
    info = {
        "questions": len(todo),
        "agreed": len(todo) - sum(reasons.values()) - pending,
        "rejected": dict(sorted(reasons.items())),
        "pending": pending,
        "samples_per_question": cfg.vote.samples,
        "min_votes": cfg.vote.min_votes,
        "min_agreement": cfg.vote.min_agreement,
        "rejections": sorted(rejected, key=lambda r: r["seed_id"]),
    }
    write_json(work / FILES["vote_decisions"], info)
    return out, info


def read_votes(work_dirs: list[Path]) -> dict:
    """The vote decisions of the run (several work dirs: summed, rejections concatenated)."""
    out: dict = {}
    for w in work_dirs:
        p = Path(w) / FILES["vote_decisions"]
        if not p.exists():
            continue
        v = json.loads(p.read_text())
        if not out:
            out = v
            continue
        for k in ("questions", "agreed", "pending"):
            out[k] += v[k]
        for k, n in v["rejected"].items():
            out["rejected"][k] = out["rejected"].get(k, 0) + n
        out["rejections"] = sorted(out["rejections"] + v["rejections"], key=lambda r: r["seed_id"])
    return out
