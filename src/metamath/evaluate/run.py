"""Evaluation run: generate -> grade -> write. Every score is explainable down to the sample.

    cfg = load_config(EvalConfig, "configs/eval/metamath_paper.yaml", ["model=./ckpt"])
    results = run_eval(cfg, "runs/eval/ckpt")

Writes into run_dir: config.yaml (resolved, with version and git sha), samples.jsonl (one row a
sample: id, prompt, completion, extracted, gold, correct, reason, both grader modes),
results.json (metrics, config, task versions and content hashes, model, backend, token usage),
report.md and report.html. Generation goes through metamath.llm.cache.CachedLLM
(run_dir/cache.sqlite), so re-running the same command after a crash resumes at no cost.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from metamath.evaluate import lm_eval_gsm8k
from metamath.evaluate.config import DecodingConfig, EvalConfig
from metamath.evaluate.metrics import task_metrics
from metamath.evaluate.prompting import DEFAULT_STOP, build_request, prompt_text
from metamath.io import read_jsonl, write_json, write_jsonl
from metamath.llm.base import Request
from metamath.records import Sample
from metamath.tasks import EvalTask, content_hash, get_task, with_max_tokens

__all__ = ["DecodingConfig", "EvalConfig", "run_eval", "score", "score_file"]


def _grades(completion: str, gold: str, error: str | None, grader: str) -> dict[str, Any]:
    """Strict and flexible verdicts of one completion, as samples.jsonl holds them."""
    if error:
        g = {"correct": False, "extracted": None, "reason": "error"}
        return {"strict": dict(g), "flexible": dict(g)}
    from metamath.answers import grade_both

    strict, flexible = grade_both(completion, gold, grader)
    return {
        mode: {"correct": bool(g.correct), "extracted": g.extracted, "reason": g.reason}
        for mode, g in (("strict", strict), ("flexible", flexible))
    }


def _requests(task: EvalTask, problems: list, cfg: EvalConfig) -> dict[str, tuple[Request, Any]]:
    """request id -> (Request, Problem), in problem order; a duplicate problem id is an error."""
    d = cfg.decoding
    by_rid = {}
    shots = (
        lm_eval_gsm8k.train_shots(len(problems), cfg.data_path)
        if cfg.prompt_style == "lm_eval"
        else [None] * len(problems)
    )
    for p, shot in zip(problems, shots, strict=True):
        req = build_request(
            p,
            task,
            style=cfg.prompt_style,
            n=d.n,
            temperature=d.temperature,
            top_p=d.top_p,
            max_tokens=task.max_tokens,
            stop=tuple(d.stop) if d.stop is not None else None,
            seed=d.seed,
            alpaca_style=cfg.alpaca_style,
            fewshot_k=cfg.fewshot_k,
            system_prompt=cfg.system_prompt,
            shots=shot,
        )
        if req.id in by_rid:
            raise ValueError(
                f"task {task.name}: duplicate problem id {p.id!r}; ids must be "
                "unique (set id_field in task_files, or remove the duplicate)"
            )
        by_rid[req.id] = (req, p)
    return by_rid


def _sample_rows(res: Any, req: Request, p: Any, task: EvalTask, cfg: EvalConfig, usage: dict):
    """One row per sample of a Result (a failed request: n rows with its error), counted in
    `usage`."""
    n = cfg.decoding.n
    base = {
        "eval_task": task.name,
        "task": task.grader,
        "problem_id": p.id,
        "prompt": prompt_text(req),
        "gold": p.gold,
        "subject": p.subject,
        "level": p.level,
    }
    primary = cfg.resolved_grade_mode()
    comps = list(res.completions) if res.ok else [None] * n
    for k, c in enumerate(comps):
        text = c.text if c else ""
        error = c.error if c else (res.error or "no completion")
        if c and c.error:  # the server sent no text for this one sample
            usage["errors"] += 1
        if c:
            usage["prompt_tokens"] += c.prompt_tokens
            usage["completion_tokens"] += c.completion_tokens
            usage["cached"] += int(c.cached)
        else:
            usage["errors"] += 1
        grades = _grades(text, p.gold, error, task.grader)
        verdict = grades[primary]
        yield Sample(
            **base,
            id=req.id if n == 1 else f"{req.id}#{k}",
            sample=k,
            completion=text,
            finish_reason=c.finish_reason if c else None,
            error=error,
            cached=bool(c and c.cached),
            # lm-eval's own two scores, beside ours
            lm_eval=lm_eval_gsm8k.score(text, p.solution or p.gold)
            if cfg.prompt_style == "lm_eval"
            else None,
            **grades,
            mode=primary,
            extracted=verdict["extracted"],
            correct=verdict["correct"],
            reason=verdict["reason"],
        ).to_dict()


def _generate(
    llm: Any, task: EvalTask, problems: list, cfg: EvalConfig, progress: bool
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    from metamath.progress import bar as progress_bar

    by_rid = _requests(task, problems, cfg)
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "cached": 0, "errors": 0}
    rows: list[dict[str, Any]] = []
    # the first results carry model loading and compilation: the ETA is measured after them
    bar = progress_bar(len(by_rid), f"eval {task.name}", "problem", enabled=progress)
    for res in llm.generate([r for r, _ in by_rid.values()]):
        req, p = by_rid[res.request.id]
        rows.extend(_sample_rows(res, req, p, task, cfg, usage))
        bar.update(1)
    bar.close()
    order = {p.id: i for i, p in enumerate(problems)}
    rows.sort(key=lambda r: (order[r["problem_id"]], r["sample"]))
    return rows, usage


def _equiv():
    from metamath.answers import is_equiv

    return is_equiv


def score(rows: list[dict[str, Any]], ks: list[int] | tuple[int, ...] = (1,)) -> dict[str, Any]:
    """Metrics per eval task from sample rows alone (what results.json holds under metrics)."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_task.setdefault(r.get("eval_task") or r["task"], []).append(r)
    return {t: task_metrics(rs, ks=ks, equiv=_equiv()) for t, rs in by_task.items()}


def _audit(rows: list[dict[str, Any]], progress: bool) -> dict[str, Any]:
    """math-verify's verdict on every sample (row["math_verify"]) and, per task, how often it
    disagrees with ours (the primary `correct`)."""
    from tqdm.auto import tqdm

    from metamath.answers.audit import math_verify

    out: dict[str, dict[str, Any]] = {}
    for row in tqdm(rows, desc="audit (math-verify)", unit="sample", disable=not progress):
        if row.get("error"):
            continue
        mv = math_verify(row["completion"] or "", str(row["gold"]))
        row["math_verify"] = {"correct": mv["correct"], "extracted": mv["extracted"]}
        t = out.setdefault(
            row.get("eval_task") or row["task"],
            {"n": 0, "math_verify_correct": 0, "ours_only": 0, "math_verify_only": 0},
        )
        t["n"] += 1
        t["math_verify_correct"] += mv["correct"]
        if bool(row["correct"]) != mv["correct"]:
            t["ours_only" if row["correct"] else "math_verify_only"] += 1
    return out


def score_file(samples_path: str | Path, ks: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Recompute every task's metrics from a samples.jsonl (no model needed). `ks` defaults to
    the run's decoding.k, read from the results.json beside the file."""
    samples_path = Path(samples_path)
    if ks is None:
        res = samples_path.parent / "results.json"
        cfg = json.loads(res.read_text(encoding="utf-8")).get("config", {}) if res.exists() else {}
        ks = tuple(cfg.get("decoding", {}).get("k") or (1,))
    return score([row for _, row in read_jsonl(samples_path)], ks)


def _lm_eval_scores(rows: list[dict[str, Any]], task: str) -> dict[str, Any]:
    """{"lm_eval": {"strict-match": acc, "flexible-extract": acc}} for the lm_eval style."""
    mine = [r["lm_eval"] for r in rows if r.get("eval_task") == task and "lm_eval" in r]
    if not mine:
        return {}
    return {
        "lm_eval": {
            name: sum(r[name]["correct"] for r in mine) / len(mine)
            for name in lm_eval_gsm8k.FILTERS
        }
    }


def run_eval(
    cfg: EvalConfig, run_dir: str | Path, llm: Any = None, progress: bool = True
) -> dict[str, Any]:
    """Generate, grade and write one evaluation run; returns results.json's content.

    `llm` is any metamath.llm.base.LLM the caller keeps (tests pass a scripted one; training
    its live model); by default metamath.llm.open builds cfg.backend for cfg.model with
    cfg.options. Either way it is wrapped in the response cache unless cfg.cache is false.
    The run directory is locked while it runs."""
    from metamath.config import check_secrets
    from metamath.runlock import run_lock

    cfg.check()
    check_secrets(dataclasses.asdict(cfg))
    with run_lock(run_dir, "eval"):  # a second run in this directory is refused at once
        return _run(cfg, Path(run_dir), llm, progress)


def _tasks(cfg: EvalConfig) -> list[EvalTask]:
    max_tokens = cfg.decoding.max_tokens
    if max_tokens is None and cfg.prompt_style == "lm_eval":
        max_tokens = lm_eval_gsm8k.MAX_TOKENS
    return [with_max_tokens(get_task(t, cfg.task_files), max_tokens) for t in cfg.tasks]


def _open(cfg: EvalConfig, run_dir: Path, llm: Any) -> Any:
    from metamath import llm as llms

    if llm is None and not cfg.model:
        raise ValueError("model is empty: pass --model PATH_OR_ID (or model=... )")
    cache = run_dir / "cache.sqlite" if cfg.cache else None
    # One progress bar per task is ours (problems graded); the backend's own bar would
    # interleave with it, so it is off unless options.progress asks for it.
    return llms.open(cfg, cache, llm=llm, progress=False)


def _task_info(task: EvalTask, problems: list, cfg: EvalConfig) -> dict[str, Any]:
    """results.json's record of a task: what was scored, and whether it was the full set."""
    full = cfg.limit is None or cfg.limit >= (task.expected_size or 0)
    return {
        "version": task.version,
        "grader": task.grader,
        "content_hash": content_hash(problems),
        "n_problems": len(problems),
        "max_tokens": task.max_tokens,
        "expected_size": task.expected_size,
        "limit": cfg.limit,
        "size_ok": (not full or task.expected_size is None or len(problems) == task.expected_size),
        "skipped_rows": len(getattr(problems, "skipped", [])),
    }


def _generate_all(
    cfg: EvalConfig, tasks: list[EvalTask], gen: Any, progress: bool
) -> tuple[list, dict, dict]:
    """(sample rows of every task, task_info per task, token usage summed over the tasks)."""
    rows: list[dict[str, Any]] = []
    task_info: dict[str, Any] = {}
    usage_all: dict[str, int] = {}
    for task in tasks:
        problems = task.load(
            limit=cfg.limit, data_path=cfg.data_path, max_row_bytes=cfg.max_row_bytes
        )
        if not problems:
            raise ValueError(f"task {task.name}: no problems loaded")
        task_rows, usage = _generate(gen, task, problems, cfg, progress)
        rows.extend(task_rows)
        for k, v in usage.items():
            usage_all[k] = usage_all.get(k, 0) + v
        task_info[task.name] = _task_info(task, problems, cfg)
    return rows, task_info, usage_all


def _run(cfg: EvalConfig, run_dir: Path, llm: Any, progress: bool) -> dict[str, Any]:
    from metamath.config import save_resolved
    from metamath.evaluate.report import write_reports

    save_resolved(cfg, run_dir)
    tasks = _tasks(cfg)  # an unknown task or a missing task file fails before the model loads
    gen = _open(cfg, run_dir, llm)
    t0 = time.time()
    try:
        rows, task_info, usage = _generate_all(cfg, tasks, gen, progress)
        stats = dict(getattr(gen, "stats", {}) or {})
    finally:
        gen.close()  # the cache file, and the model where we built it (never a caller's)
    audit = _audit(rows, progress) if cfg.audit else None
    write_jsonl(run_dir / "samples.jsonl", rows)
    results = _results(cfg, gen, rows, task_info, usage, audit, stats, t0)
    write_json(run_dir / "results.json", results)
    write_reports(results, rows, run_dir, examples=cfg.report_examples)
    return results


def _results(cfg, gen, rows, task_info, usage, audit, stats, t0) -> dict[str, Any]:  # noqa: ANN001
    """results.json: the scores, what was scored, and how (config, usage, audit, run)."""
    from metamath.config import run_metadata, to_dict

    metrics = score(rows, ks=cfg.decoding.k)
    primary = cfg.resolved_grade_mode()
    return {
        "model": cfg.model or getattr(gen, "model", ""),
        "backend": cfg.backend,
        "prompt_style": cfg.prompt_style,
        "primary": primary,
        "stop": list(
            DEFAULT_STOP[cfg.prompt_style] if cfg.decoding.stop is None else cfg.decoding.stop
        ),
        "summary": {
            t: {
                "accuracy": m[primary]["accuracy"],
                "ci95": m[primary]["ci95"],
                "strict": m["strict"]["accuracy"],
                "flexible": m["flexible"]["accuracy"],
                **_lm_eval_scores(rows, t),
            }
            for t, m in metrics.items()
        },
        "tasks": {t: dict(task_info[t], metrics=metrics[t]) for t in task_info},
        "usage": usage,
        "grader_audit": audit,
        "backend_stats": stats,
        "elapsed_s": round(time.time() - t0, 2),
        "config": to_dict(cfg),
        "run": run_metadata(),
    }
