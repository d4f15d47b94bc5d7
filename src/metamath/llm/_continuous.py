"""Continuous batching for the `hf` backend: transformers' paged-attention manager
(`model.generate_batch`, transformers 5.x), where a finished row's slot is refilled at once instead
of waiting for the longest row of its batch.

Used for greedy groups only: its sampler draws from torch's shared RNG (`torch.multinomial`), so a
seeded sample would depend on what else is in flight; the static/dynamic path's keyed Gumbel noise
keeps samples reproducible and cache-key compatible. It has no stop strings either: generation runs
on past a stop string and the row is cut where the stop string completes, to the token, as
generate()'s StopStringCriteria does. Which path a group takes is decided in hf.py (`continuous`).
"""

from __future__ import annotations

import math
from typing import Any

PAGE_TOKENS = {"cuda": 256, "cpu": 32}  # small pages on CPU: nothing to gain from large ones


def generate_continuous(
    model: Any,
    prompts: list[list[int]],
    max_tokens: int,
    eos_ids: list[int],
    pad_id: int,
    max_rows: int,
    max_batch_tokens: int | None = None,
) -> list[list[int]]:
    """Greedy new tokens for each prompt, in order. max_rows: rows decoding at once; the paged KV
    cache is sized for that many rows of the longest prompt + max_tokens (transformers would size
    it from free GPU memory, and on CPU from nothing: it would allocate for a 4K-token batch)."""
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    device = model.device.type
    page = PAGE_TOKENS.get(device, 256)
    rows = max(1, min(max_rows, len(prompts)))
    longest = max(len(p) for p in prompts) + max_tokens
    blocks = rows * math.ceil(longest / page) + rows  # one spare page per row
    if max_batch_tokens is None:  # a prefill chunk + one token for every decoding row
        max_batch_tokens = max(rows, 256 if device == "cpu" else 2048) + rows
    cb = ContinuousBatchingConfig(
        page_size=page,
        num_blocks=blocks,
        max_batch_tokens=max_batch_tokens,
        max_requests_per_batch=rows,
        auto_switch_to_flash=False,  # the loaded attention stays (flash-attn is used if loaded so)
    )
    gen = GenerationConfig(
        max_new_tokens=max_tokens,
        do_sample=False,
        eos_token_id=eos_ids,
        pad_token_id=pad_id,
    )
    out = model.generate_batch(
        prompts,
        generation_config=gen,
        continuous_batching_config=cb,
        progress_bar=False,
        warmup=device == "cuda",  # captures CUDA graphs; nothing to capture elsewhere
    )
    results = list(out.values())  # in the order of the prompts
    failed = [r for r in results if getattr(r, "error", None)]
    if len(results) != len(prompts) or failed:
        why = failed[0].error if failed else f"{len(prompts) - len(results)} rows missing"
        raise RuntimeError(f"continuous batching failed: {why}")
    return [list(r.generated_tokens) for r in results]


def cut_at_stop(tokens: list[int], stop: tuple[str, ...], decode: Any) -> list[int]:
    """The tokens up to and including the one that completes the first stop string (all of them
    when none occurs). Containing a stop string is monotone in the prefix, so a binary search
    over prefixes needs ~log2(n) decodes."""
    if not stop or not any(s in decode(tokens) for s in stop):
        return tokens
    lo, hi = 1, len(tokens)  # the shortest prefix whose text holds a stop string is in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if any(s in decode(tokens[:mid]) for s in stop):
            hi = mid
        else:
            lo = mid + 1
    return tokens[:lo]
