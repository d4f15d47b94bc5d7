"""Supervised fine-tuning, the MetaMath recipe: a plain training loop on accelerate.

    from metamath.train import load_train_config, run_train
    result = run_train(load_train_config("configs/train/tiny_cpu.yaml"), "runs/tiny")

    # several GPUs / nodes: the same command under accelerate (FSDP or DeepSpeed ZeRO-3)
    accelerate launch --config_file configs/train/accelerate/fsdp_8gpu.yaml \
        -m metamath train --config configs/train/llama2_7b_full.yaml

The recipe reads top to bottom: setup (data, model, optimizer, resume), step (one optimizer
step of `global_batch_size` examples), log (metrics.jsonl, trackers, progress), checkpoint, and
finish (final model, stats.json, report). Accuracy during training comes from an `evaluate`
callback the caller builds (`metamath train` uses metamath.evaluate.live.for_training): this
stage imports no other.

Why a plain loop rather than TRL's SFTTrainer: an optimizer step here is a fixed set of
`global_batch_size` examples (the paper's 128) whatever the layout, and the loss is the token mean
over the whole step, so packed and padded training, any micro-batch size and any process count
give the same step; the data order is a pure function of (seed, epoch, step), so a resume replays
exactly; and throughput/MFU are measured on the tokens actually trained. Distribution (DDP, FSDP,
DeepSpeed), mixed precision, checkpoint state and trackers all come from accelerate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metamath.io import JsonlWriter, write_json, write_jsonl
from metamath.train import attention, checkpoint, engine
from metamath.train.config import TrainConfig
from metamath.train.data import TrainData, load_examples, split_validation, summary
from metamath.train.format import collate_packed, collate_padded
from metamath.train.measure import evaluate_live, validation_loss
from metamath.train.model import liger_applies, load_model, load_tokenizer, peak_flops, save_final
from metamath.train.plan import StepPlan, due
from metamath.train.report import read_metrics, write_report

# evaluate(model, tokenizer, step, out_dir) -> {task: accuracy}: the live model, evaluated by
# the caller's code (the stages stay apart), its full run written to out_dir
Evaluate = Callable[[Any, Any, int, Path], dict[str, float]]


def run_train(
    cfg: TrainConfig,
    run_dir: str | Path,
    evaluate: Evaluate | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train per cfg, writing everything into run_dir; returns losses, paths and throughput.

    `evaluate` measures accuracy at cfg.eval's steps (needed where cfg.eval.tasks is set).
    The run directory is locked for the run (metamath.runlock), before torch is even imported,
    so a second run there is refused at once. The processes of one accelerate/torchrun launch
    are one run: the global rank 0 holds the lock; if it is refused it exits, and the launcher
    stops the other ranks with it."""
    import dataclasses
    import os

    from metamath.config import check_secrets
    from metamath.runlock import run_lock

    cfg.check()
    check_secrets(dataclasses.asdict(cfg))
    if cfg.eval.tasks and evaluate is None:
        raise ValueError(
            "eval.tasks is set but no evaluator was passed: run_train(cfg, run_dir, "
            "evaluate=metamath.evaluate.live.for_training(cfg)) (`metamath train` does this)"
        )
    main = int(os.environ.get("RANK", "0")) == 0
    with run_lock(run_dir, "train") if main else nullcontext():
        return _train(cfg, Path(run_dir), evaluate, progress)


@dataclass
class _Run:
    """Everything the loop needs, built once by _setup."""

    cfg: TrainConfig
    run_dir: Path
    acc: Any  # the Accelerator
    tok: Any
    data: TrainData
    val: TrainData | None
    plan: StepPlan
    model: Any
    optimizer: Any
    scheduler: Any
    start: int  # the step resumed from (0: a fresh run)
    kept: list[dict[str, Any]]  # metrics rows logged up to the resumed step
    n_params: int
    vocab_size: int | None
    peak: float  # the device's peak FLOP/s, for MFU (0: unknown)
    attn: str  # the attention implementation the model runs
    device_type: str  # cuda, cpu, ...
    collate: Callable[[list[tuple[Any, int]]], dict[str, Any]] = field(repr=False)

    @property
    def world(self) -> int:
        return self.acc.num_processes

    @property
    def main(self) -> bool:
        return self.acc.is_main_process

    @property
    def cuda(self) -> bool:
        return self.device_type == "cuda"


def _train(
    cfg: TrainConfig, run_dir: Path, evaluate: Evaluate | None, progress: bool
) -> dict[str, Any]:
    import torch
    from accelerate import PartialState

    engine.check_trackers(cfg.report_to)
    # Without a GPU, accelerate only forms a process group (gloo) when told it runs on CPU.
    cpu = not torch.cuda.is_available()
    ps = PartialState(cpu=cpu)
    done = checkpoint.finished_run(run_dir, cfg)
    if done is not None:  # re-running a finished run (resume=auto) trains nothing again
        return done
    run = _setup(cfg, run_dir, ps, cpu)
    log = _Log(run, progress)
    run.model.train()
    for step in range(run.start, run.plan.total):
        row = _step(run, step)
        accs = _measure(run, row, evaluate, log)
        log.write(row, accs)
        if cfg.save_steps > 0 and (step + 1) % cfg.save_steps == 0 and step + 1 < run.plan.total:
            _checkpoint(run, step + 1)
    log.close()
    return _finish(run, log)


def _setup(cfg: TrainConfig, run_dir: Path, ps: Any, cpu: bool) -> _Run:
    """Data, the Accelerator, the model, optimizer and schedule, restored from a checkpoint."""
    from accelerate.utils import DistributedType, set_seed

    device_type = ps.device.type
    ckpt = checkpoint.resume_point(cfg, run_dir)
    tok = load_tokenizer(cfg)
    with ps.main_process_first():  # rank 0 tokenises and fills the cache, the others read it
        data = load_examples(cfg, tok)
    data, val = split_validation(data, cfg.val_size, cfg.seed)
    plan = StepPlan(data, cfg, ps.num_processes)
    acc = engine.accelerator(cfg, run_dir, plan.grad_accum, device_type, cpu=cpu)
    if acc.is_main_process:
        _write_inputs(cfg, run_dir, data, val)
    set_seed(cfg.seed)
    local = acc.distributed_type in (DistributedType.NO, DistributedType.MULTI_GPU)
    model = load_model(cfg, device_type, acc.device if local else None)
    n_params = sum(p.numel() for p in model.parameters())
    vocab_size = getattr(getattr(model, "config", None), "vocab_size", None)  # report: ln V
    model, optimizer, scheduler = engine.prepare(acc, model, cfg, device_type, plan.total)
    start = 0
    if ckpt is not None:
        acc.load_state(str(ckpt))
        start = checkpoint.checkpoint_step(ckpt)
    kept = [r for r in read_metrics(run_dir / "metrics.jsonl") if r["step"] <= start]
    if acc.is_main_process:  # a resumed run continues the log from its checkpoint
        write_jsonl(run_dir / "metrics.jsonl", kept)
    if cfg.report_to:
        acc.init_trackers(
            "metamath-train",
            config={k: v for k, v in vars(cfg).items() if isinstance(v, (int, float, str, bool))},
        )
    attn = str(getattr(acc.unwrap_model(model).config, "_attn_implementation", ""))
    return _Run(
        cfg, run_dir, acc, tok, data, val, plan, model, optimizer, scheduler, start, kept,
        n_params, vocab_size, peak_flops(acc.device, cfg.peak_tflops), attn, device_type,
        _collator(cfg, acc.device, tok.pad_token_id, attn),
    )  # fmt: skip


def _write_inputs(cfg: TrainConfig, run_dir: Path, data: TrainData, val: TrainData | None):
    """config.yaml, the length policy's report and drops, the held-out validation refs."""
    from metamath.config import save_resolved

    run_dir.mkdir(parents=True, exist_ok=True)
    save_resolved(cfg, run_dir)
    write_json(run_dir / "data_report.json", data.report)
    write_jsonl(run_dir / "dropped.jsonl", data.dropped)
    if val is not None:
        write_jsonl(run_dir / "validation.jsonl", [{"ref": r} for r in val.refs])


def _collator(cfg: TrainConfig, device: Any, pad_id: int, attn: str) -> Callable:
    """examples -> a batch on the device, packed or padded."""
    # varlen kernels (flash-attn, PyTorch's own) take the boundaries of one flat row; only the
    # dense masked attention of sdpa/eager needs rows of bounded length
    varlen = attn.startswith("flash") or attn == attention.NAME
    row_tokens = 0 if varlen else cfg.pack_length

    def collate(ex: list[tuple[Any, int]]) -> dict[str, Any]:
        batch = (
            collate_packed(ex, pad_id, row_tokens, varlen)
            if cfg.packing
            else collate_padded(ex, pad_id)
        )
        return {
            k: v.to(device, non_blocking=True) if hasattr(v, "to") else v for k, v in batch.items()
        }

    return collate


def _step(run: _Run, step: int) -> dict[str, Any]:
    """One optimizer step over this process's micro-batches; its metrics row."""
    import torch

    acc, model, plan = run.acc, run.model, run.plan
    t0 = time.perf_counter()
    micro, targets, tokens = plan.micro_batches(step, acc.process_index)
    denom = targets / (plan.grad_accum * run.world)  # loss = sum NLL / step's target tokens
    loss_sum = torch.zeros((), device=acc.device)
    grad_norm = None
    lr = run.scheduler.get_last_lr()[0]
    for mb in micro:
        batch = run.collate([(run.data.ids[j], run.data.prompt_lens[j]) for j in mb])
        with acc.accumulate(model):
            with acc.autocast() if run.cuda else nullcontext():
                # use_cache=False matters: with a cache transformers does not read the
                # position-id restarts as document boundaries (masking_utils).
                out = model(**batch, num_items_in_batch=denom, use_cache=False)
            acc.backward(out.loss)
            if acc.sync_gradients and run.cfg.max_grad_norm > 0:
                grad_norm = acc.clip_grad_norm_(model.parameters(), run.cfg.max_grad_norm)
            run.optimizer.step()
            run.optimizer.zero_grad(set_to_none=True)
        loss_sum += out.loss.detach()
    run.scheduler.step()
    loss = (acc.reduce(loss_sum, "sum") / (plan.grad_accum * run.world)).item()
    dt = time.perf_counter() - t0
    return {
        "step": step + 1,
        "epoch": round((step + 1) / plan.steps_per_epoch, 4),
        "loss": loss,
        "lr": lr,
        "tokens": tokens,
        "tokens_per_s": round(tokens / dt, 1),
        "mfu": _mfu(run, tokens / dt),
        "grad_norm": float(grad_norm) if grad_norm is not None else None,
        "_seconds": dt,
    }


def _mfu(run: _Run, tokens_per_s: float | None) -> float | None:
    """Model FLOPs utilisation: 6 N FLOPs per token trained, over the peak of every device."""
    if not (run.peak and tokens_per_s):
        return None
    return round(6 * run.n_params * tokens_per_s / (run.peak * run.world), 4)


class _Log:
    """What the run reports as it goes: metrics.jsonl, the trackers, the progress bar, and the
    loss, validation and accuracy series for stats.json (a resumed run keeps those logged
    before its checkpoint)."""

    def __init__(self, run: _Run, progress: bool):
        from metamath.progress import bar as progress_bar

        self.run = run
        self.losses: list[float] = []
        self.val_losses: list[list[float]] = [
            [r["step"], r["val_loss"]] for r in run.kept if r.get("val_loss") is not None
        ]
        self.evals: list[list[Any]] = [[r["step"], _accs(r)] for r in run.kept if _accs(r)]
        self.tokens, self.seconds = 0, 0.0
        self.t_start = time.perf_counter()
        self.writer = JsonlWriter(run.run_dir / "metrics.jsonl") if run.main else None
        # the first step also compiles/warms kernels: the ETA is measured after it
        self.bar = progress_bar(
            run.plan.total, "train", "step", enabled=run.main and progress, initial=run.start
        )

    def write(self, row: dict[str, Any], accs: dict[str, float] | None) -> None:
        """Record a step's row (accs: the step's evaluation, None where none was due)."""
        run, cfg = self.run, self.run.cfg
        self.losses.append(row["loss"])
        self.tokens += row["tokens"]
        self.seconds += row.pop("_seconds")
        if "val_loss" in row:
            self.val_losses.append([row["step"], row["val_loss"]])
        if accs is not None:
            self.evals.append([row["step"], accs])
        if run.main and (row["step"] % cfg.log_steps == 0 or "val_loss" in row or _accs(row)):
            self.writer.write(row)
        if cfg.report_to:
            run.acc.log({k: v for k, v in row.items() if v is not None}, step=row["step"])
        self.bar.update(1)
        self.bar.set_postfix(
            loss=f"{row['loss']:.4f}",
            tok_s=f"{row['tokens_per_s']:,.0f}",
            **({"val": f"{self.val_losses[-1][1]:.4f}"} if self.val_losses else {}),
            **({"acc": " ".join(f"{v:.3f}" for v in self.evals[-1][1].values())} if self.evals else {}),
        )  # fmt: skip

    def close(self) -> None:
        self.bar.close()
        if self.writer:
            self.writer.close()


def _accs(row: dict[str, Any]) -> dict[str, float]:
    """{task: accuracy} from a metrics row's eval_<task> fields."""
    return {k[5:]: v for k, v in row.items() if k.startswith("eval_")}


def _measure(
    run: _Run, row: dict[str, Any], evaluate: Evaluate | None, log: _Log
) -> dict[str, float] | None:
    """Validation loss and accuracy where they are due, into the step's row (after the time
    elapsed); returns the accuracies (None: no evaluation was due)."""
    cfg, step = run.cfg, row["step"]
    row["elapsed_s"] = round(time.perf_counter() - log.t_start, 2)
    last = step == run.plan.total
    if run.val is not None and due(step, cfg.val_steps, last):
        row["val_loss"] = validation_loss(run.model, run.val, cfg, run.acc, run.collate)
    if not (cfg.eval.tasks and evaluate is not None and due(step, cfg.eval.steps, last)):
        return None
    accs = evaluate_live(run, evaluate, step)
    row.update({f"eval_{t}": a for t, a in accs.items()})
    return accs


def _checkpoint(run: _Run, step: int) -> None:
    cfg, acc = run.cfg, run.acc
    hf = (
        (lambda d: save_final(acc, run.model, run.tok, cfg, d, merge=False))
        if cfg.save_hf_checkpoints
        else None
    )
    checkpoint.save_checkpoint(acc, run.run_dir, step, cfg, hf)


def _finish(run: _Run, log: _Log) -> dict[str, Any]:
    """The final model, stats.json and the report; returns the run's result."""
    from metamath.config import to_dict

    cfg, acc = run.cfg, run.acc
    paths = save_final(acc, run.model, run.tok, cfg, run.run_dir) if cfg.save_model else {}
    tps = log.tokens / log.seconds if log.seconds else None
    stats = {
        "model": cfg.model,
        "steps": run.plan.total,
        "resumed_from_step": run.start,
        "global_batch_size": cfg.global_batch_size,
        "grad_accum": run.plan.grad_accum,
        "processes": run.world,
        "distributed": str(acc.distributed_type).split(".")[-1],
        "attention": "varlen" if run.attn == attention.NAME else run.attn,
        "liger": liger_applies(cfg, run.device_type),
        "compiled": cfg.compile,
        "params": run.n_params,
        "vocab_size": run.vocab_size,
        "final_loss": log.losses[-1] if log.losses else None,
        "val_size": len(run.val) if run.val is not None else 0,
        "val_loss": log.val_losses[-1][1] if log.val_losses else None,
        "val_losses": log.val_losses,
        "evals": log.evals,
        "tokens_per_s": round(tps, 1) if tps else None,
        "mfu": _mfu(run, tps),
        "wall_s": round(time.perf_counter() - log.t_start, 2),
        "data": run.data.report,
        **paths,
        "losses": log.losses,
        "completed": True,
        "config": to_dict(cfg),
    }
    if run.main:
        write_json(run.run_dir / "stats.json", stats)
        write_report(run.run_dir, stats, summary(run.data.report))
    acc.wait_for_everyone()  # every process is past its last collective
    # trackers closed and the process group torn down here, in order: left to interpreter exit,
    # one rank can leave while another still holds the group, and gloo aborts that one (SIGABRT)
    acc.end_training()
    return {"run_dir": str(run.run_dir), **stats}
