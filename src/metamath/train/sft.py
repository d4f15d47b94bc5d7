"""Supervised fine-tuning, the MetaMath recipe: a plain training loop on accelerate.

    from metamath.train import load_train_config, run_train
    result = run_train(load_train_config("configs/train/tiny_cpu.yaml"), "runs/tiny")

    # several GPUs / nodes: the same command under accelerate (FSDP or DeepSpeed ZeRO-3)
    accelerate launch --config_file configs/train/accelerate/fsdp_8gpu.yaml \
        -m metamath train --config configs/train/llama2_7b_full.yaml

Why a plain loop rather than TRL's SFTTrainer: an optimizer step here is a fixed set of
`global_batch_size` examples (the paper's 128) whatever the layout, and the loss is the token mean
over the whole step, so packed and padded training, any micro-batch size and any process count
give the same step; the data order is a pure function of (seed, epoch, step), so a resume replays
exactly; and throughput/MFU are measured on the tokens actually trained. Distribution (DDP, FSDP,
DeepSpeed), mixed precision, checkpoint state and trackers all come from accelerate.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from metamath.io import JsonlWriter, follow_umask, write_json, write_jsonl
from metamath.train import attention
from metamath.train.config import TrainConfig
from metamath.train.data import TrainData, load_examples, split_validation, summary
from metamath.train.format import collate_packed, collate_padded, n_targets
from metamath.train.model import (
    liger_applies,
    load_model,
    load_tokenizer,
    peak_flops,
    save_final,
)
from metamath.train.report import write_report


class StepPlan:
    """Which examples each process trains on at each optimizer step (deterministic)."""

    def __init__(self, data: TrainData, cfg: TrainConfig, world: int):
        import numpy as np

        self._np = np
        self.data, self.cfg, self.world = data, cfg, world
        g, m = cfg.global_batch_size, cfg.micro_batch_size
        if g % (m * world):
            raise ValueError(
                f"global_batch_size={g} must be a multiple of micro_batch_size={m} "
                f"x {world} process(es); e.g. global_batch_size={m * world * max(1, g // (m * world))}"
            )
        self.grad_accum = g // (m * world)
        self.steps_per_epoch = len(data) // g
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"only {len(data)} training examples, fewer than "
                f"global_batch_size={g}; lower global_batch_size"
            )
        self.total = (
            cfg.max_steps if cfg.max_steps > 0 else math.ceil(cfg.epochs * self.steps_per_epoch)
        )
        self._perm: dict[int, Any] = {}

    def examples(self, step: int) -> list[int]:
        """The global batch of step `step` (0-based): a per-epoch shuffle, sliced. The last
        partial batch of an epoch is left out (a new shuffle next epoch)."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch not in self._perm:
            self._perm = {
                epoch: self._np.random.default_rng(self.cfg.seed + epoch).permutation(
                    len(self.data)
                )
            }
        g = self.cfg.global_batch_size
        idx = [int(x) for x in self._perm[epoch][i * g : (i + 1) * g]]
        if not self.cfg.packing and self.cfg.group_by_length:
            # Similar lengths in a micro-batch waste less padding; the step's loss is a token
            # mean over the whole global batch, so the order inside it changes nothing else.
            idx.sort(key=lambda j: -len(self.data.ids[j]))
        return idx

    def micro_batches(self, step: int, rank: int) -> tuple[list[list[int]], int, int]:
        """This process's micro-batches, the step's trained-token count and total token count
        (all processes)."""
        idx = self.examples(step)
        m = self.cfg.micro_batch_size
        chunks = [idx[k : k + m] for k in range(0, len(idx), m)]
        mine = chunks[rank :: self.world]
        d = self.data
        targets = sum(n_targets(d.ids[j], d.prompt_lens[j]) for j in idx)
        tokens = sum(len(d.ids[j]) for j in idx)
        return mine, targets, tokens


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


def _optimizer(model: Any, cfg: TrainConfig, device_type: str) -> Any:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]  # no decay on biases and norms (HF convention)
    rest = [p for p in params if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    fused = cfg.fused_optimizer and device_type == "cuda"
    return torch.optim.AdamW(
        groups,
        lr=cfg.lr,
        betas=(cfg.adam_beta1, cfg.adam_beta2),
        eps=cfg.adam_eps,
        fused=fused or None,
    )


def run_train(cfg: TrainConfig, run_dir: str | Path) -> dict[str, Any]:
    """Train per cfg, writing everything into run_dir; returns losses, paths and throughput.

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
    main = int(os.environ.get("RANK", "0")) == 0
    with run_lock(run_dir, "train") if main else nullcontext():
        return _train(cfg, Path(run_dir))


def _train(cfg: TrainConfig, run_dir: Path) -> dict[str, Any]:
    import torch
    from accelerate import Accelerator, PartialState
    from accelerate.utils import (
        DistributedType,
        GradientAccumulationPlugin,
        TorchDynamoPlugin,
        set_seed,
    )
    from transformers import get_scheduler

    from metamath.config import save_resolved, to_dict
    from metamath.progress import bar as progress_bar

    _check_trackers(cfg.report_to)
    # Without a GPU, accelerate only forms a process group (gloo) when told it runs on CPU.
    cpu = not torch.cuda.is_available()
    ps = PartialState(cpu=cpu)
    device_type, world = ps.device.type, ps.num_processes
    done = _finished(run_dir, cfg)
    if done is not None:  # re-running a finished run (resume=auto) trains nothing again
        return done
    ckpt = (
        _latest_checkpoint(run_dir)
        if cfg.resume == "auto"
        else (Path(cfg.resume) if cfg.resume else None)
    )
    if ckpt is not None:
        if not (ckpt / "trainer_state.json").exists():
            raise FileNotFoundError(f"resume={ckpt}: not a checkpoint (no trainer_state.json)")
        _check_resume(ckpt, cfg, run_dir, explicit=cfg.resume != "auto")
    tok = load_tokenizer(cfg)
    with ps.main_process_first():  # rank 0 tokenises and fills the cache, the others read it
        data = load_examples(cfg, tok)
    data, val = split_validation(data, cfg.val_size, cfg.seed)
    plan = StepPlan(data, cfg, world)
    accelerator = Accelerator(
        gradient_accumulation_plugin=GradientAccumulationPlugin(
            num_steps=plan.grad_accum, sync_with_dataloader=False
        ),
        mixed_precision=cfg.mixed_precision if device_type == "cuda" else "no",
        log_with=cfg.report_to or None,
        project_dir=str(run_dir),
        cpu=cpu,
        dynamo_plugin=TorchDynamoPlugin(
            backend="inductor", use_regional_compilation=True, dynamic=True
        )
        if cfg.compile
        else None,
    )
    _sharding_on_cpu(accelerator)
    main = accelerator.is_main_process
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_resolved(cfg, run_dir)
        write_json(run_dir / "data_report.json", data.report)
        write_jsonl(run_dir / "dropped.jsonl", data.dropped)
        if val is not None:
            write_jsonl(run_dir / "validation.jsonl", [{"ref": r} for r in val.refs])
    set_seed(cfg.seed)
    local = accelerator.distributed_type in (DistributedType.NO, DistributedType.MULTI_GPU)
    model = load_model(cfg, device_type, accelerator.device if local else None)
    n_params = sum(p.numel() for p in model.parameters())
    vocab_size = getattr(getattr(model, "config", None), "vocab_size", None)  # report: ln V
    optimizer = _optimizer(model, cfg, device_type)
    ds = accelerator.state.deepspeed_plugin
    if ds is not None:  # no dataloader goes through prepare(), so DeepSpeed's "auto" needs these
        ds.deepspeed_config["train_micro_batch_size_per_gpu"] = cfg.micro_batch_size
        if ds.deepspeed_config.get("gradient_clipping", "auto") == "auto":
            ds.deepspeed_config["gradient_clipping"] = cfg.max_grad_norm
    if cfg.eval.tasks and accelerator.distributed_type in (
        DistributedType.FSDP,
        DistributedType.DEEPSPEED,
    ):
        raise ValueError(
            "eval.tasks generates with the whole model on one process, which "
            "FSDP/DeepSpeed shard; leave eval.tasks empty, set "
            "save_hf_checkpoints=true and evaluate checkpoints/step-N/model with "
            "`metamath eval`"
        )
    model, optimizer = accelerator.prepare(model, optimizer)
    warmup = cfg.warmup_steps if cfg.warmup_steps >= 0 else math.ceil(cfg.warmup_ratio * plan.total)
    # the torch optimizer under accelerate's wrapper (and under DeepSpeed's ZeRO optimizer, which
    # keeps the learning rate in its inner optimizer's param_groups)
    inner = optimizer.optimizer
    while not isinstance(inner, torch.optim.Optimizer) and hasattr(inner, "optimizer"):
        inner = inner.optimizer
    scheduler = get_scheduler(
        cfg.scheduler, inner, num_warmup_steps=warmup, num_training_steps=plan.total
    )
    accelerator.register_for_checkpointing(scheduler)

    start = 0
    if ckpt is not None:
        accelerator.load_state(str(ckpt))
        start = json.loads((ckpt / "trainer_state.json").read_text())["step"]
    metrics_path = run_dir / "metrics.jsonl"
    kept = [r for r in _rows(metrics_path) if r["step"] <= start]
    if main:
        write_jsonl(metrics_path, kept)  # a resumed run continues the log from its checkpoint
    if cfg.report_to:
        accelerator.init_trackers(
            "metamath-train",
            config={k: v for k, v in vars(cfg).items() if isinstance(v, (int, float, str, bool))},
        )

    peak = peak_flops(accelerator.device, cfg.peak_tflops)
    attn = str(getattr(accelerator.unwrap_model(model).config, "_attn_implementation", ""))
    # varlen kernels (flash-attn, PyTorch's own) take the boundaries of one flat row; only the
    # dense masked attention of sdpa/eager needs rows of bounded length
    varlen = attn.startswith("flash") or attn == attention.NAME
    row_tokens = 0 if varlen else cfg.pack_length
    pad_id = tok.pad_token_id
    losses: list[float] = []
    # a resumed run keeps the validation and evaluation points logged before its checkpoint
    val_losses: list[list[float]] = [
        [r["step"], r["val_loss"]] for r in kept if r.get("val_loss") is not None
    ]
    evals: list[list[Any]] = [[r["step"], _eval_accs(r)] for r in kept if _eval_accs(r)]

    def collate(ex: list[tuple[Any, int]]) -> dict[str, Any]:
        batch = (
            collate_packed(ex, pad_id, row_tokens, varlen)
            if cfg.packing
            else collate_padded(ex, pad_id)
        )
        return {
            k: v.to(accelerator.device, non_blocking=True) if hasattr(v, "to") else v
            for k, v in batch.items()
        }

    writer = JsonlWriter(metrics_path) if main else None
    # the first step also compiles/warms kernels: the ETA is measured after it
    bar = progress_bar(plan.total, "train", "step", enabled=main, initial=start)
    t_start, tok_total, time_total = time.perf_counter(), 0, 0.0
    model.train()
    for step in range(start, plan.total):
        t0 = time.perf_counter()
        micro, targets, tokens = plan.micro_batches(step, accelerator.process_index)
        denom = targets / (plan.grad_accum * world)  # loss = sum NLL / step's target tokens
        loss_sum = torch.zeros((), device=accelerator.device)
        grad_norm = None
        lr = scheduler.get_last_lr()[0]
        for mb in micro:
            batch = collate([(data.ids[j], data.prompt_lens[j]) for j in mb])
            with accelerator.accumulate(model):
                with accelerator.autocast() if device_type == "cuda" else nullcontext():
                    # use_cache=False matters: with a cache transformers does not read the
                    # position-id restarts as document boundaries (masking_utils).
                    out = model(**batch, num_items_in_batch=denom, use_cache=False)
                accelerator.backward(out.loss)
                if accelerator.sync_gradients and cfg.max_grad_norm > 0:
                    grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            loss_sum += out.loss.detach()
        scheduler.step()
        loss = (accelerator.reduce(loss_sum, "sum") / (plan.grad_accum * world)).item()
        dt = time.perf_counter() - t0
        losses.append(loss)
        tok_total += tokens
        time_total += dt
        tps = tokens / dt
        row = {
            "step": step + 1,
            "epoch": round((step + 1) / plan.steps_per_epoch, 4),
            "loss": loss,
            "lr": lr,
            "tokens": tokens,
            "tokens_per_s": round(tps, 1),
            "mfu": round(6 * n_params * tps / (peak * world), 4) if peak else None,
            "grad_norm": float(grad_norm) if grad_norm is not None else None,
            "elapsed_s": round(time.perf_counter() - t_start, 2),
        }
        last = step + 1 == plan.total
        if val is not None and _due(step + 1, cfg.val_steps, last):
            row["val_loss"] = validation_loss(model, val, cfg, accelerator, collate)
            val_losses.append([step + 1, row["val_loss"]])
        if cfg.eval.tasks and _due(step + 1, cfg.eval.steps, last):
            accs = evaluate_now(model, tok, cfg, accelerator, run_dir, step + 1)
            row.update({f"eval_{t}": a for t, a in accs.items()})
            evals.append([step + 1, accs])
        if main and ((step + 1) % cfg.log_steps == 0 or "val_loss" in row or _eval_accs(row)):
            writer.write(row)
        if cfg.report_to:
            accelerator.log({k: v for k, v in row.items() if v is not None}, step=step + 1)
        bar.update(1)
        bar.set_postfix(
            loss=f"{loss:.4f}",
            tok_s=f"{tps:,.0f}",
            **({"val": f"{val_losses[-1][1]:.4f}"} if val_losses else {}),
            **({"acc": " ".join(f"{v:.3f}" for v in evals[-1][1].values())} if evals else {}),
        )
        if cfg.save_steps > 0 and (step + 1) % cfg.save_steps == 0 and step + 1 < plan.total:
            hf = (
                (lambda d: save_final(accelerator, model, tok, cfg, d, merge=False))
                if cfg.save_hf_checkpoints
                else None
            )
            _save_checkpoint(accelerator, run_dir, step + 1, cfg, hf)
    bar.close()
    if writer:
        writer.close()
    paths = save_final(accelerator, model, tok, cfg, run_dir) if cfg.save_model else {}
    tps = tok_total / time_total if time_total else None
    stats = {
        "model": cfg.model,
        "steps": plan.total,
        "resumed_from_step": start,
        "global_batch_size": cfg.global_batch_size,
        "grad_accum": plan.grad_accum,
        "processes": world,
        "distributed": str(accelerator.distributed_type).split(".")[-1],
        "attention": "varlen" if attn == attention.NAME else attn,
        "liger": liger_applies(cfg, device_type),
        "compiled": cfg.compile,
        "params": n_params,
        "vocab_size": vocab_size,
        "final_loss": losses[-1] if losses else None,
        "val_size": len(val) if val is not None else 0,
        "val_loss": val_losses[-1][1] if val_losses else None,
        "val_losses": val_losses,
        "evals": evals,
        "tokens_per_s": round(tps, 1) if tps else None,
        "mfu": round(6 * n_params * tps / (peak * world), 4) if (peak and tps) else None,
        "wall_s": round(time.perf_counter() - t_start, 2),
        "data": data.report,
        **paths,
        "losses": losses,
        "completed": True,
        "config": to_dict(cfg),
    }
    if main:
        write_json(run_dir / "stats.json", stats)
        write_report(run_dir, stats, summary(data.report))
    if cfg.report_to:
        accelerator.end_training()
    accelerator.wait_for_everyone()
    return {"run_dir": str(run_dir), **stats}


def _sharding_on_cpu(accelerator: Any) -> None:
    """Honour an FSDP or DeepSpeed launch config where the processes run on CPUs (gloo).

    accelerate (1.15) turns a launch with an FSDP or DeepSpeed config into that engine only on
    accelerator devices; without a GPU it silently trains plain data parallel (MULTI_CPU) and the
    sharding settings are dropped. PyTorch's FSDP and DeepSpeed's ZeRO (its CPU accelerator) both
    run on CPU over gloo, so the plugin accelerate would have built from the launch environment is
    put in place here; everything after that (sharding, sharded checkpoints, the gathered final
    model) is accelerate's own code path. This is how the FSDP configs in
    configs/train/accelerate/ run without a GPU (tests/test_train_fsdp.py, in CI)."""
    import os

    from accelerate import PartialState
    from accelerate.utils import (
        DeepSpeedPlugin,
        DistributedType,
        FullyShardedDataParallelPlugin,
    )

    state = accelerator.state
    if state.distributed_type != DistributedType.MULTI_CPU:
        return
    if os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true":
        state.fsdp_plugin = FullyShardedDataParallelPlugin()  # reads the launch's FSDP_* settings
        kind = DistributedType.FSDP
    elif os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true":
        plugin = DeepSpeedPlugin()  # reads the launch's ACCELERATE_DEEPSPEED_* settings
        plugin.set_mixed_precision("no")
        state.deepspeed_plugins = plugin
        kind = DistributedType.DEEPSPEED
    else:
        return
    state.distributed_type = kind
    # as accelerate records it on GPUs: every later AcceleratorState() copies this
    PartialState._shared_state["distributed_type"] = kind
    if kind == DistributedType.DEEPSPEED:
        state.deepspeed_plugins.select(_from_accelerator_state=True)


def _due(step: int, every: int, last: bool) -> bool:
    """Validation/evaluation schedule: every `every` steps (0: never) and at the last step."""
    return last or (every > 0 and step % every == 0)


def _eval_accs(row: dict[str, Any]) -> dict[str, float]:
    """{task: accuracy} from a metrics row's eval_<task> fields."""
    return {k[5:]: v for k, v in row.items() if k.startswith("eval_")}


def validation_loss(
    model: Any, val: TrainData, cfg: TrainConfig, accelerator: Any, collate: Any
) -> float:
    """Mean NLL per response+EOS token over the held-out examples (all processes together).

    Every process runs the same number of forward passes (FSDP/ZeRO-3 gather weights
    collectively): a process with no chunk left repeats the first one at weight 0."""
    import torch

    m, world, rank = cfg.micro_batch_size, accelerator.num_processes, accelerator.process_index
    chunks = [list(range(k, min(k + m, len(val)))) for k in range(0, len(val), m)]
    per_rank = -(-len(chunks) // world)
    total = torch.zeros(2, dtype=torch.float64, device=accelerator.device)  # NLL sum, tokens
    model.eval()
    with torch.no_grad():
        for i in range(per_rank):
            k = rank + i * world
            chunk, weight = (chunks[k], 1.0) if k < len(chunks) else (chunks[0], 0.0)
            ex = [(val.ids[j], val.prompt_lens[j]) for j in chunk]
            with accelerator.autocast() if accelerator.device.type == "cuda" else nullcontext():
                out = model(**collate(ex), num_items_in_batch=1, use_cache=False)
            total[0] += weight * out.loss.double()
            total[1] += weight * sum(n_targets(x, p) for x, p in ex)
    model.train()
    total = accelerator.reduce(total, "sum")
    return (total[0] / total[1]).item()


def evaluate_now(
    model: Any, tok: Any, cfg: TrainConfig, accelerator: Any, run_dir: Path, step: int
) -> dict[str, float]:
    """Accuracy of the live model on cfg.eval.tasks (main process; the others wait), with the
    evaluator's prompt and grader; the full run (samples.jsonl, report) goes to
    run_dir/evals/step-N. Returns {task: accuracy} on the main process, {} elsewhere."""
    import torch

    from metamath.evaluate.run import EvalConfig, run_eval
    from metamath.llm.hf import HFLLM

    accs: dict[str, float] = {}
    if accelerator.is_main_process:
        net = accelerator.unwrap_model(model)
        prev = net.config._attn_implementation
        if prev == attention.NAME:  # a training-only kernel: no KV cache, no padding mask
            net.set_attn_implementation("sdpa")
        # the prompt the model trains with; the released code's own eval prompt for "original"
        prompt_style, alpaca_style = {
            "metamath": ("alpaca", "metamath"),
            "original": ("alpaca", "original_eval"),
            "chat": ("chat", "metamath"),
        }[cfg.prompt_style]
        ecfg = EvalConfig(
            model=f"{cfg.model} (step {step})",
            tasks=list(cfg.eval.tasks),
            limit=cfg.eval.limit,
            data_path=cfg.eval.data_path,
            prompt_style=prompt_style,
            alpaca_style=alpaca_style,
            cache=False,
            report_examples=3,
        )
        ecfg.decoding.max_tokens = cfg.eval.max_tokens
        opts: dict[str, Any] = {"static_cache": False, "compile": False, "progress": False}
        if cfg.eval.batch_size:
            opts["batch_size"] = cfg.eval.batch_size
        cuda = accelerator.device.type == "cuda"
        try:
            llm = HFLLM.from_objects(net, tok, name=ecfg.model, **opts)
            # the training RNG stream (dropout) continues as if no evaluation had run
            with (
                torch.random.fork_rng(devices=[accelerator.device] if cuda else []),
                accelerator.autocast() if cuda else nullcontext(),
            ):
                res = run_eval(
                    ecfg, run_dir / "evals" / f"step-{step:07d}", llm=llm, progress=False
                )
        finally:
            if prev == attention.NAME:
                net.set_attn_implementation(prev)
            net.train()
        accs = {t: s["accuracy"] for t, s in res["summary"].items()}
    accelerator.wait_for_everyone()
    return accs


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


def _finished(run_dir: Path, cfg: TrainConfig) -> dict[str, Any] | None:
    """The saved result of a completed run of the same config in run_dir, if any."""
    f = run_dir / "stats.json"
    if cfg.resume != "auto" or not f.exists():
        return None
    stats = json.loads(f.read_text())
    if stats.get("completed") and stats.get("config") == _config_json(cfg):
        return {"run_dir": str(run_dir), **stats, "already_complete": True}
    return None


def _check_trackers(names: list[str]) -> None:
    """accelerate drops an uninstalled tracker with only a log line; say it plainly instead."""
    import importlib.util

    for name in names:
        module = {"tensorboard": "tensorboard", "wandb": "wandb"}.get(name)
        if module is None:
            raise ValueError(f"report_to: {name!r} is not supported; use tensorboard or wandb")
        if importlib.util.find_spec(module) is None:
            raise RuntimeError(f"report_to={name} needs the {module} package: pip install {module}")


def _rows(path: Path) -> list[dict[str, Any]]:
    from metamath.train.report import read_metrics

    return read_metrics(path)


def _save_checkpoint(
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
