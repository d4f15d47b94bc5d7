"""The augmentation pipeline: seeds -> rewrite -> solve (graded) -> assemble -> outputs.

    from metamath.augment import AugmentConfig, run_augment
    stats = run_augment(cfg, "runs/aug1")              # teacher built from cfg.teacher
    stats = run_augment(cfg, "runs/aug1", llm=my_llm)  # any metamath.llm.base.LLM

Run directory: config.yaml, metamathqa.jsonl, rejected.jsonl, stats.json, DATA_CARD.md, and
work/ (append-only stage files, the LLM cache, the seed rows that could not be read). Re-running
the same command resumes item by item; a second run in the same directory while one runs is
refused (metamath.runlock). A run spread over machines: run each with shard=i/n into its own directory, then
merge_runs([...dirs], out_dir) assembles their work files into one dataset.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from metamath.augment.assemble import assemble
from metamath.augment.backward import mask_question
from metamath.augment.budget import run_solve
from metamath.augment.config import FILES, AugmentConfig
from metamath.augment.generate import rewrite_jobs, run_jobs, solve_items
from metamath.augment.seeds import load_seeds
from metamath.augment.vote import vote_golds
from metamath.config import check_secrets, save_resolved
from metamath.io import write_jsonl
from metamath.llm.base import LLM
from metamath.runlock import run_lock


def build_teacher(cfg: AugmentConfig, run_dir: Path, llm: LLM | None = None) -> LLM:
    """The configured teacher through metamath.llm.open, in the run's response cache
    (teacher.cache); `llm`: one the caller built (the scripted teacher), cached the same way."""
    from metamath.llm import open as open_llm

    t = cfg.teacher
    if llm is None and not t.model:
        raise ValueError(
            "teacher.model is empty: set it in the recipe or on the command line, "
            "e.g. teacher.model=gpt-4o-mini (openai) or teacher.model=runs/tiny (hf)"
        )
    return open_llm(t, Path(run_dir) / "work" / FILES["cache"] if t.cache else None, llm=llm)


def _masking_stats(seeds) -> dict:
    out: dict = {}
    for s in seeds:
        d = out.setdefault(s.kind, {"questions": 0, "with_masks": 0, "masks": 0})
        n = len(mask_question(s.question, s.id, s.kind))
        d["questions"] += 1
        d["with_masks"] += bool(n)
        d["masks"] += n
    return out


def _write_masks(cfg: AugmentConfig, seeds, path: Path) -> None:
    """Every masked question with its check (fobar.mask_records): the backward techniques'
    stage-1 record. Deterministic, so it is simply rewritten on a resume."""
    from metamath.augment.fobar import mask_records

    on = [tc.max_masks for tc in (cfg.fobar, cfg.self_verification) if tc.enabled]
    if not on:
        return
    limit = 0 if 0 in on else max(on)
    write_jsonl(path, (r for s in seeds for r in mask_records(s, limit)))


def run_augment(
    cfg: AugmentConfig, run_dir: str | Path, llm: LLM | None = None, progress: bool = False
) -> dict:
    """Run (or resume) an augmentation run; returns the stats written to stats.json. The run
    directory is locked while it runs (metamath.runlock): a second run there is refused."""
    cfg.check()
    check_secrets(dataclasses.asdict(cfg))
    with run_lock(run_dir, "augment"):
        return _run(cfg, Path(run_dir), llm, progress)


def _run(cfg: AugmentConfig, run_dir: Path, llm: LLM | None, progress: bool) -> dict:
    work = run_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    save_resolved(cfg, run_dir)
    pool: list = []
    rejected: list = []
    seeds, seed_info = load_seeds(
        cfg.seeds,
        cfg.shard,
        everything=pool,
        rejected=rejected,
        max_row_bytes=cfg.max_row_bytes,
        max_question_chars=cfg.max_question_chars,
    )
    write_jsonl(
        work / FILES["seed_rejects"], rejected
    )  # rewritten whole: the seeds are re-read each run
    own = llm is None
    if own and cfg.teacher.backend == "scripted":  # a dry run: no model, answers by table
        from metamath.augment.scripted import ScriptedTeacher

        llm = build_teacher(cfg, run_dir, ScriptedTeacher(seeds, **cfg.teacher.options))
    elif own:
        llm = build_teacher(cfg, run_dir)
    log = work / FILES["requests"]
    _write_masks(cfg, seeds, work / FILES["masks"])
    rounds: dict = {}
    try:
        # Seeds without an answer get one by the teacher's agreement (or are left out).
        seeds, votes = vote_golds(cfg, llm, seeds, pool, work, log, progress)
        # Stage 1 must finish before stage 2 reads its accepted rows.
        for stage, key in (("rephrase", "rephrase"), ("sv_rewrite", "sv_rewrite")):
            jobs = (j for j in rewrite_jobs(cfg, seeds) if j.technique == stage)
            run_jobs(
                llm, jobs, work / FILES[key], log, cfg.batch_size, f"augment {stage}", progress
            )
        items = list(solve_items(cfg, seeds, work, pool))
        rounds = run_solve(cfg, llm, items, work, log, progress)
    finally:
        if own:
            llm.close()
    extra = {
        "seeds": seed_info,
        "masking": _masking_stats(seeds),
        "shard": cfg.shard,
        **({"budget_rounds": rounds} if rounds else {}),
        "teacher": {
            "backend": cfg.teacher.backend,
            "model": cfg.teacher.model or getattr(llm, "model", ""),
        },
    }
    return assemble(cfg, [work], run_dir, extra)


def merge_runs(cfg: AugmentConfig, run_dirs: list[str | Path], out_dir: str | Path) -> dict:
    """Assemble the work files of several (sharded) runs into one dataset in out_dir."""
    cfg.check()
    works = [Path(d) / "work" for d in run_dirs]
    for w in works:
        if not (w / FILES["solve"]).exists():
            raise FileNotFoundError(
                f"{w / FILES['solve']}: not an augment run directory "
                "(run `metamath augment --shard i/n --out DIR` first)"
            )
    out = Path(out_dir)
    check_secrets(dataclasses.asdict(cfg))
    with run_lock(out, "augment --merge"):
        save_resolved(cfg, out)
        return assemble(cfg, works, out, {"merged_from": [str(d) for d in run_dirs]})
