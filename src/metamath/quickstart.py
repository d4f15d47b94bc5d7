"""The quickstart: the whole MetaMath loop, small, in one run directory.

    metamath quickstart                                        # small Hub models (needs network)
    metamath tiny-model runs/tiny && metamath quickstart teacher=runs/tiny student=runs/tiny

1. bootstrap a slice of GSM8K train with every technique (AnsAug, Rephrasing, SV, FOBAR) using an
   in-process `hf` teacher;
2. evaluate the student on a slice of GSM8K test (before);
3. fine-tune the student with LoRA for a few steps on the bootstrapped rows plus the seeds' own
   reference solutions (so a run whose teacher keeps nothing still has data to train on);
4. evaluate the fine-tuned student on the same slice (after);
5. write index.html (and index.md): the numbers, and links to every step's report.

This module sits beside the CLI (above the stages): it wires the stages' public functions
together and owns no logic of theirs. Each step resumes from its own directory.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metamath.io import read_jsonl, write_json, write_jsonl

DEFAULT_TEACHER = "Qwen/Qwen2.5-0.5B-Instruct"
DEFAULT_STUDENT = "Qwen/Qwen2.5-0.5B"


@dataclass
class QuickstartConfig:
    teacher: str = DEFAULT_TEACHER  # Hub id or local directory
    student: str = DEFAULT_STUDENT
    out: str = "runs/quickstart"
    seeds: int = 8  # GSM8K train questions to bootstrap from
    k: int = 2  # samples per question and technique
    max_tokens: int = 256  # teacher and student generation budget
    eval_limit: int = 20  # GSM8K test problems evaluated before and after
    train_steps: int = 10
    lr: float = 2e-4
    lora_r: int = 16
    lora_alpha: int = 32
    device: str = "auto"  # auto | cpu | cuda
    options: dict[str, Any] = field(default_factory=dict)  # extra hf backend options


class OfflineError(RuntimeError):
    pass


def _is_local(model: str) -> bool:
    return Path(model).expanduser().exists()


def check_models(cfg: QuickstartConfig) -> None:
    """Fail at once, with the fix, when a Hub model cannot be had (offline, typo, gated)."""
    for role in ("teacher", "student"):
        model = getattr(cfg, role)
        if _is_local(model):
            continue
        if "/" not in model or model.startswith((".", "/", "~")):
            raise OfflineError(f"{role}={model!r}: no such local directory, and not a Hub id")
        try:
            from huggingface_hub import snapshot_download

            snapshot_download(model, local_files_only=True)  # already in the local HF cache
            continue
        except Exception:  # not cached: ask the Hub below
            pass
        try:
            from huggingface_hub import model_info

            model_info(model, timeout=10)
        except Exception as e:
            raise OfflineError(
                f"{role}={model!r} is not a local directory and the Hugging Face Hub cannot be "
                f"reached ({type(e).__name__}). Offline, pass local weights instead, e.g.\n"
                f"  metamath tiny-model runs/tiny && "
                f"metamath quickstart teacher=runs/tiny student=runs/tiny\n"
                f"or teacher=/path/to/a/local/model student=/path/to/another"
            ) from None


def _hf_options(cfg: QuickstartConfig) -> dict[str, Any]:
    opts = dict(cfg.options)
    if cfg.device != "auto":
        opts.setdefault("device", cfg.device)
    return opts


def augment_step(cfg: QuickstartConfig, run_dir: Path, progress: bool) -> dict[str, Any]:
    from metamath.augment.config import AugmentConfig, SeedConfig, TeacherConfig, TechniqueConfig
    from metamath.augment.pipeline import run_augment

    tech = TechniqueConfig(k=cfg.k, k_rewrite=1, max_tokens=cfg.max_tokens, max_masks=1)
    acfg = AugmentConfig(
        seeds=[SeedConfig(name="gsm8k", split="train", limit=cfg.seeds)],
        teacher=TeacherConfig(backend="hf", model=cfg.teacher, options=_hf_options(cfg)),
        answer_aug=tech,
        rephrase=tech,
        fobar=tech,
        self_verification=tech,
        style="chat",
        shots=2,
        batch_size=16,
    )
    return run_augment(acfg, run_dir, progress=progress)


# GSM8K solutions carry calculator annotations ("<<48/2=24>>"); MetaMathQA responses do not.
_CALC = re.compile(r"<<[^<>]*>>")


def seed_sft_rows(limit: int) -> list[dict[str, Any]]:
    """The seeds' own reference solutions in MetaMathQA form (the paper's plain-SFT data)."""
    from metamath.data import load

    rows = []
    for p in load("gsm8k", split="train", limit=limit):
        body = _CALC.sub("", (p.solution or "").rsplit("####", 1)[0]).strip()
        rows.append(
            {
                "id": f"{p.id}/sft",
                "query": p.question,
                "type": "GSM_SFT",
                "response": f"{body}\n#### {p.gold}\nThe answer is: {p.gold}",
                "original_question": p.question,
            }
        )
    return rows


def train_data(cfg: QuickstartConfig, aug_dir: Path, run_dir: Path) -> tuple[Path, dict]:
    out = run_dir / "train_data.jsonl"
    bootstrapped = [row for _, row in read_jsonl(aug_dir / "metamathqa.jsonl")]
    seeds = seed_sft_rows(cfg.seeds)
    write_jsonl(out, bootstrapped + seeds)  # rebuilt whole (atomically) on every run
    return out, {"bootstrapped": len(bootstrapped), "seed_solutions": len(seeds)}


def eval_step(cfg: QuickstartConfig, model: str, run_dir: Path, progress: bool) -> dict:
    from metamath.evaluate.run import DecodingConfig, EvalConfig, run_eval

    ecfg = EvalConfig(
        model=model,
        backend="hf",
        backend_options=_hf_options(cfg),
        tasks=["gsm8k"],
        limit=cfg.eval_limit,
        prompt_style="alpaca",
        alpaca_style="metamath",
        decoding=DecodingConfig(max_tokens=cfg.max_tokens),
    )
    return run_eval(ecfg, run_dir, progress=progress)


def train_step(cfg: QuickstartConfig, data: Path, rows: int, run_dir: Path) -> dict:
    from metamath.train.config import DataConfig, LoraConfig, TrainConfig
    from metamath.train.sft import run_train

    batch = max(1, min(4, rows))
    tcfg = TrainConfig(
        model=cfg.student,
        data=DataConfig(path=[str(data)]),
        max_steps=cfg.train_steps,
        global_batch_size=batch,
        micro_batch_size=batch,
        lr=cfg.lr,
        warmup_ratio=0.0,
        lora=LoraConfig(enabled=True, r=cfg.lora_r, alpha=cfg.lora_alpha, merge=True),
        save_steps=0,
        mixed_precision="no",
        model_dtype="float32",
        seed=0,
    )
    return run_train(tcfg, run_dir)


def run_quickstart(
    cfg: QuickstartConfig, progress: bool = True, log=lambda msg: None
) -> dict[str, Any]:
    """Run every step (each resumes from its own directory); returns the summary. The whole
    directory is locked for the run (each step also locks its own sub-directory)."""
    from metamath.runlock import run_lock

    check_models(cfg)
    with run_lock(cfg.out, "quickstart"):
        return _run(cfg, Path(cfg.out), progress, log)


def _run(cfg: QuickstartConfig, root: Path, progress: bool, log) -> dict[str, Any]:
    from metamath.config import save_resolved

    save_resolved(cfg, root)
    t0 = time.time()
    summary: dict[str, Any] = {"teacher": cfg.teacher, "student": cfg.student, "steps": {}}

    log(f"[1/4] bootstrapping {cfg.seeds} GSM8K seeds with {cfg.teacher}")
    aug = augment_step(cfg, root / "augment", progress)
    summary["steps"]["augment"] = {"rows": aug.get("rows"), "seconds": round(time.time() - t0, 1)}
    summary["augment"] = {
        t: {k: v[k] for k in ("requests", "samples", "kept", "yield")}
        for t, v in aug.get("techniques", {}).items()
    }
    summary["augment_rewrites"] = aug.get("stage1", {})  # rephrasings / SV statements checked
    data, counts = train_data(cfg, root / "augment", root)
    summary["train_data"] = counts

    log(f"[2/4] evaluating the student before fine-tuning on {cfg.eval_limit} GSM8K test problems")
    before = eval_step(cfg, cfg.student, root / "eval_before", progress)

    log(
        f"[3/4] fine-tuning {cfg.student} with LoRA for {cfg.train_steps} steps on "
        f"{counts['bootstrapped']} bootstrapped + {counts['seed_solutions']} seed rows"
    )
    trained = _finished_training(root / "train", cfg.train_steps) or train_step(
        cfg, data, sum(counts.values()), root / "train"
    )
    model_dir = trained.get("merged_model") or trained.get("model_dir")
    if not model_dir:
        raise RuntimeError(f"training finished but reported no model directory: {trained}")

    log("[4/4] evaluating the fine-tuned student")
    after = eval_step(cfg, str(model_dir), root / "eval_after", progress)

    summary["accuracy_before"] = _accuracy(before)
    summary["accuracy_after"] = _accuracy(after)
    summary["model"] = str(model_dir)
    summary["eval_limit"] = cfg.eval_limit
    losses = trained.get("losses") or []
    summary["loss"] = [losses[0], losses[-1]] if losses else None
    summary["seconds"] = round(time.time() - t0, 1)
    write_json(root / "summary.json", summary)
    from metamath.quickstart_page import write_index

    write_index(root, summary)
    return summary


def _finished_training(run_dir: Path, steps: int) -> dict | None:
    """A finished training step (stats.json with the same step count and a saved model)."""
    f = run_dir / "stats.json"
    if not f.exists():
        return None
    stats = json.loads(f.read_text())
    done = stats.get("steps") == steps and Path(stats.get("model_dir", "")).is_dir()
    return stats if done else None


def _accuracy(results: dict) -> dict[str, float] | None:
    """{"strict": .., "flexible": ..} on the GSM8K slice, from results.json's summary."""
    s = (results.get("summary") or {}).get("gsm8k")
    return None if s is None else {"strict": s["strict"], "flexible": s["flexible"]}
