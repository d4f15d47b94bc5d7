"""Checkpoints: where a run resumes from, whether it may, whether it is already finished, and
saving one (accelerate's full state, then our trainer_state.json written last, which marks it
complete)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from metamath.io import follow_umask, write_json
from metamath.train.config import TrainConfig


def resume_point(cfg: TrainConfig, run_dir: Path) -> Path | None:
    """The checkpoint this run continues from (resume=auto: the latest in run_dir; "": none; or
    the one named), checked against the config it was trained with."""
    ckpt = (
        _latest_checkpoint(run_dir)
        if cfg.resume == "auto"
        else (Path(cfg.resume) if cfg.resume else None)
    )
    if ckpt is not None:
        if not (ckpt / "trainer_state.json").exists():
            raise FileNotFoundError(f"resume={ckpt}: not a checkpoint (no trainer_state.json)")
        _check_resume(ckpt, cfg, run_dir, explicit=cfg.resume != "auto")
    return ckpt


def checkpoint_step(ckpt: Path) -> int:
    """The optimizer steps a checkpoint holds."""
    return json.loads((ckpt / "trainer_state.json").read_text())["step"]


def _latest_checkpoint(run_dir: Path) -> Path | None:
    cks = sorted(
        (
            p
            for p in (run_dir / "checkpoints").glob("step-*")
            if (p / "trainer_state.json").exists()
        ),
        key=lambda p: int(p.name[5:]),
    )
    return cks[-1] if cks else None


# What a checkpoint's training depends on: resuming it under other values would silently mix
# two runs. Layout-only keys (micro_batch_size, packing, attention, compile, logging, saving,
# evaluation) may change; max_steps/epochs may change (the schedule follows the new total).
_RESUME_KEYS = (
    "model",
    "model_init",
    "data",
    "prompt_style",
    "max_length",
    "over_length",
    "global_batch_size",
    "lr",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "adam_eps",
    "max_grad_norm",
    "warmup_ratio",
    "warmup_steps",
    "scheduler",
    "model_dtype",
    "lora",
    "seed",
    "val_size",
)


def _check_resume(ckpt: Path, cfg: TrainConfig, run_dir: Path, explicit: bool) -> None:
    """resume=auto into a run directory whose checkpoint was trained under other settings is an
    error; an explicit resume=CHECKPOINT (a warm start on purpose) only warns."""
    import logging

    old = json.loads((ckpt / "trainer_state.json").read_text()).get("config")
    if old is None:  # a checkpoint written before configs were recorded in it
        return
    new = _config_json(cfg)
    for d in (old, new):  # where the token cache lives, or the row-size bound, is not the data
        d.get("data", {}).pop("cache_dir", None)
        d.get("data", {}).pop("max_row_bytes", None)
    diff = [k for k in _RESUME_KEYS if old.get(k) != new.get(k)]
    log = logging.getLogger(__name__)
    if diff:
        detail = "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in diff)
        if not explicit and _completed_steps(run_dir) is not None:
            # a finished run: continuing its last mid-run checkpoint is not what re-running
            # a changed command means
            raise ValueError(
                f"{run_dir} holds a finished {_completed_steps(run_dir)}-step run trained with "
                f"other settings ({detail}). Use a new --run-dir to keep it, or resume='' to "
                "train again in this one (its model and reports are replaced)"
            )
        if not explicit:
            raise ValueError(
                f"{run_dir} holds a checkpoint ({ckpt.name}) trained with other settings "
                f"({detail}). Use a new --run-dir; or resume='' to start over in this one; or "
                f"resume={ckpt} to continue from it with the new settings on purpose"
            )
        log.warning("resume=%s: continuing with changed settings (%s)", ckpt, detail)
    for k in ("max_steps", "epochs"):
        if old.get(k) != new.get(k):
            log.warning(
                "resume: %s changed %r -> %r; the learning-rate schedule follows the new total",
                k,
                old.get(k),
                new.get(k),
            )


def _completed_steps(run_dir: Path) -> int | None:
    """The step count of the finished run recorded in run_dir, if one is."""
    f = run_dir / "stats.json"
    stats = json.loads(f.read_text()) if f.exists() else {}
    return stats.get("steps") if stats.get("completed") else None


def _config_json(cfg: TrainConfig) -> dict[str, Any]:
    """The config as it reads back from JSON (stats.json, trainer_state.json): tuples as lists."""
    from metamath.config import to_dict

    return json.loads(json.dumps(to_dict(cfg)))


def finished_run(run_dir: Path, cfg: TrainConfig) -> dict[str, Any] | None:
    """The saved result of a completed run of the same config in run_dir, if any."""
    f = run_dir / "stats.json"
    if cfg.resume != "auto" or not f.exists():
        return None
    stats = json.loads(f.read_text())
    if stats.get("completed") and stats.get("config") == _config_json(cfg):
        return {"run_dir": str(run_dir), **stats, "already_complete": True}
    return None


def save_checkpoint(
    accelerator: Any, run_dir: Path, step: int, cfg: TrainConfig, hf: Any = None
) -> None:
    """accelerate's full state (model/optimizer shards, scheduler, RNG) + our step; the
    trainer_state.json written last marks the checkpoint complete. hf(dir): also write the
    model in Hugging Face format there (model/ or adapter/), for `metamath eval`."""
    d = run_dir / "checkpoints" / f"step-{step:07d}"
    accelerator.save_state(str(d))
    if hf is not None:
        hf(d)  # gathers FSDP / ZeRO-3 shards on rank 0: every process takes part
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        follow_umask(d)  # accelerate's model.safetensors is written owner-only
        write_json(d / "trainer_state.json", {"step": step, "config": _config_json(cfg)})
        keep = cfg.keep_checkpoints
        done = sorted((p for p in d.parent.glob("step-*") if p != d), key=lambda p: p.name)
        for old in done[: max(0, len(done) - max(keep, 1) + 1)]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
