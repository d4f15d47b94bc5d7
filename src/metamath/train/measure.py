"""What the loop measures besides the training loss: the validation loss on held-out examples,
and accuracy by the caller's evaluator on the live model (the stages stay apart: the evaluator
comes in as a callback, see metamath.train.sft.Evaluate)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from metamath.train import attention
from metamath.train.config import TrainConfig
from metamath.train.data import TrainData
from metamath.train.format import n_targets


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


def evaluate_live(run: Any, evaluate: Any, step: int) -> dict[str, float]:
    """Accuracy of the live model by the caller's `evaluate` (main process; the others wait);
    its full run goes to run_dir/evals/step-N. {task: accuracy} on the main process, {}
    elsewhere. The training RNG stream (dropout) continues as if no evaluation had run."""
    import torch

    accs: dict[str, float] = {}
    if run.main:
        net = run.acc.unwrap_model(run.model)
        prev = net.config._attn_implementation
        if prev == attention.NAME:  # a training-only kernel: no KV cache, no padding mask
            net.set_attn_implementation("sdpa")
        try:
            with (
                torch.random.fork_rng(devices=[run.acc.device] if run.cuda else []),
                run.acc.autocast() if run.cuda else nullcontext(),
            ):
                accs = evaluate(net, run.tok, step, run.run_dir / "evals" / f"step-{step:07d}")
        finally:
            if prev == attention.NAME:
                net.set_attn_implementation(prev)
            net.train()
    run.acc.wait_for_everyone()
    return accs
