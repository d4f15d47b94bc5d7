"""The engine under the recipe, all from accelerate: the Accelerator (DDP, FSDP, DeepSpeed,
mixed precision, trackers), the optimizer and its schedule, and the launch configs honoured on
CPUs too."""

from __future__ import annotations

import math
from typing import Any

from metamath.train.config import TrainConfig


def accelerator(cfg: TrainConfig, run_dir: Any, grad_accum: int, device_type: str, cpu: bool):
    """The Accelerator for a run (sharding on CPUs applied, see _sharding_on_cpu)."""
    from accelerate import Accelerator
    from accelerate.utils import GradientAccumulationPlugin, TorchDynamoPlugin

    acc = Accelerator(
        gradient_accumulation_plugin=GradientAccumulationPlugin(
            num_steps=grad_accum, sync_with_dataloader=False
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
    _sharding_on_cpu(acc)
    return acc


def prepare(acc: Any, model: Any, cfg: TrainConfig, device_type: str, total: int):
    """(model, optimizer, scheduler) prepared by accelerate; the scheduler is checkpointed."""
    import torch
    from accelerate.utils import DistributedType
    from transformers import get_scheduler

    opt = optimizer(model, cfg, device_type)
    ds = acc.state.deepspeed_plugin
    if ds is not None:  # no dataloader goes through prepare(), so DeepSpeed's "auto" needs these
        ds.deepspeed_config["train_micro_batch_size_per_gpu"] = cfg.micro_batch_size
        if ds.deepspeed_config.get("gradient_clipping", "auto") == "auto":
            ds.deepspeed_config["gradient_clipping"] = cfg.max_grad_norm
    if cfg.eval.tasks and acc.distributed_type in (
        DistributedType.FSDP,
        DistributedType.DEEPSPEED,
    ):
        raise ValueError(
            "eval.tasks generates with the whole model on one process, which "
            "FSDP/DeepSpeed shard; leave eval.tasks empty, set "
            "save_hf_checkpoints=true and evaluate checkpoints/step-N/model with "
            "`metamath eval`"
        )
    model, opt = acc.prepare(model, opt)
    warmup = cfg.warmup_steps if cfg.warmup_steps >= 0 else math.ceil(cfg.warmup_ratio * total)
    # the torch optimizer under accelerate's wrapper (and under DeepSpeed's ZeRO optimizer, which
    # keeps the learning rate in its inner optimizer's param_groups)
    inner = opt.optimizer
    while not isinstance(inner, torch.optim.Optimizer) and hasattr(inner, "optimizer"):
        inner = inner.optimizer
    scheduler = get_scheduler(
        cfg.scheduler, inner, num_warmup_steps=warmup, num_training_steps=total
    )
    acc.register_for_checkpointing(scheduler)
    return model, opt, scheduler


def optimizer(model: Any, cfg: TrainConfig, device_type: str) -> Any:
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


def check_trackers(names: list[str]) -> None:
    """accelerate drops an uninstalled tracker with only a log line; say it plainly instead."""
    import importlib.util

    for name in names:
        module = {"tensorboard": "tensorboard", "wandb": "wandb"}.get(name)
        if module is None:
            raise ValueError(f"report_to: {name!r} is not supported; use tensorboard or wandb")
        if importlib.util.find_spec(module) is None:
            raise RuntimeError(f"report_to={name} needs the {module} package: pip install {module}")
