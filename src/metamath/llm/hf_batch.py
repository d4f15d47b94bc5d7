"""One batch of the hf backend through transformers' generate(): left-padded rows, the shared
prefill of equal prompts, seeded Gumbel-max sampling keyed per row, and each row's Completion.
The module doc of metamath.llm.hf says why it is done this way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metamath.llm.base import Completion

_MASK64 = (1 << 64) - 1


def _signed(x: int) -> int:
    """A 64-bit pattern as torch's int64 holds it (two's complement)."""
    x &= _MASK64
    return x - (1 << 64) if x >= 1 << 63 else x


def _mix64(x: int) -> int:
    """splitmix64 finaliser (Steele et al. 2014): a well-spread 64-bit key from any integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def row_key(seed: int, index: int) -> int:
    """The noise key of sample `index` of a request with `seed`."""
    return _signed(_mix64(_mix64(seed & _MASK64) ^ index))


class GumbelSampler:
    """Logits processor that turns greedy search into seeded sampling: argmax(logits + Gumbel noise)
    is a sample from softmax(logits). Run after temperature and top-p warpers."""

    def __init__(self, keys: Sequence[int], prompt_len: int):
        self.keys = list(keys)
        self.prompt_len = prompt_len

    def __call__(self, input_ids, scores):
        import torch

        step = input_ids.shape[1] - self.prompt_len
        keys = torch.tensor(self.keys, dtype=torch.int64, device=scores.device)
        vocab = torch.arange(scores.shape[-1], dtype=torch.int64, device=scores.device)
        x = keys[:, None] ^ _signed(_mix64(step)) ^ (vocab[None, :] * _signed(0xD1B54A32D192ED03))
        for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):  # splitmix64
            x = (x ^ ((x >> shift) & ((1 << (64 - shift)) - 1))) * _signed(mult)
        x = x ^ ((x >> 31) & ((1 << 33) - 1))
        u = (((x >> 40) & 0xFFFFFF).to(torch.float32) + 0.5) / float(1 << 24)  # in (0, 1)
        return scores.float() - torch.log(-torch.log(u))


@dataclass
class Row:
    req: int  # index into the requests list
    index: int  # sample index
    ids: list[int]
    key: int | None  # noise key; None = greedy


def is_oom(e: BaseException) -> bool:
    import torch

    return isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower()


def generate_batch(
    llm: Any,
    rows: list[Row],
    temperature: float,
    top_p: float,
    max_tokens: int,
    stop: tuple[str, ...],
    cache: Any = None,
) -> list[Completion]:
    import torch
    from transformers import GenerationConfig, LogitsProcessorList
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopPLogitsWarper,
    )

    tok = llm.tokenizer
    width = max(len(r.ids) for r in rows)
    if cache is not None:  # fewer distinct shapes -> fewer recompilations
        width = round_up(width, 32)
    ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, r in enumerate(rows):  # left padding
        ids[j, width - len(r.ids) :] = torch.tensor(r.ids)
        mask[j, width - len(r.ids) :] = 1
    kw: dict[str, Any] = {}
    if cache is not None or llm.share_prefix:
        # a shared prefill fills the cache first; generate() then computes only what is left
        cache = shared_prefill(llm, ids, mask, cache)
        if cache is not None:
            kw[cache_kwarg(llm.hf_model)] = cache
    processors = LogitsProcessorList()
    if temperature > 0:
        processors.append(TemperatureLogitsWarper(temperature))
        if top_p < 1.0:
            processors.append(TopPLogitsWarper(top_p))
        processors.append(GumbelSampler([r.key for r in rows], width))
    config = GenerationConfig(
        max_new_tokens=max_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=sorted(llm.eos_ids),
        pad_token_id=tok.pad_token_id,
        stop_strings=list(stop) or None,
        disable_compile=not llm.compile,
    )
    with torch.no_grad():  # not inference_mode: the reused static cache is updated in place
        out = llm.hf_model.generate(
            input_ids=ids.to(llm.device),
            attention_mask=mask.to(llm.device),
            generation_config=config,
            logits_processor=processors,
            **kw,
            tokenizer=tok if stop else None,
        )
    gen = out[:, width:].tolist()
    return [completion(llm, r, g, max_tokens, stop) for r, g in zip(rows, gen, strict=True)]


def shared_prefill(llm: Any, ids: Any, mask: Any, cache: Any) -> Any:
    """Prefill each distinct prompt of the batch once and give every row a copy of its KV cache.

    The n samples of a request are n rows with the same (left-padded) prompt. All but the last
    prompt column is run once per distinct prompt; the cache is then gathered to one copy per
    row, and generate() computes the last column and decodes as usual. The last column stays
    with generate() so that it produces the first new token itself: its logits processors,
    stopping criteria and stop strings see exactly the steps of an unshared call, and the
    seeded samples are the same token for token. Returns the cache to hand to generate():
    `cache` (a StaticCache, reset) filled, a new DynamicCache, or `cache` untouched (None or
    empty) where nothing is shared or the cache has layers this does not handle (sliding,
    linear)."""
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer, StaticLayer

    if not llm.share_prefix or ids.shape[1] < 2:
        return cache
    index: dict[tuple[int, ...], int] = {}
    firsts: list[int] = []
    src: list[int] = []
    for j, key in enumerate(map(tuple, ids.tolist())):
        if key not in index:
            index[key] = len(firsts)
            firsts.append(j)
        src.append(index[key])
    if len(firsts) == len(src):
        return cache
    prefix = DynamicCache(config=llm.hf_model.config)
    if not all(type(x) is DynamicLayer for x in prefix.layers) or (
        cache is not None and not all(type(x) is StaticLayer for x in cache.layers)
    ):
        return cache
    dev = llm.device
    sel = torch.tensor(firsts)
    p_ids, p_mask = ids[sel, :-1].to(dev), mask[sel, :-1].to(dev)
    pos = (p_mask.cumsum(-1) - 1).masked_fill(p_mask == 0, 0)  # as generate() derives them
    llm.hf_model(
        input_ids=p_ids,
        attention_mask=p_mask,
        position_ids=pos,
        use_cache=True,
        logits_to_keep=1,  # the prefix's logits are not needed: skip the vocabulary matmul
        **{cache_kwarg(llm.hf_model): prefix},
    )
    rows = torch.tensor(src, device=dev)
    if cache is None:
        prefix.batch_select_indices(rows)
        return prefix
    for layer, part in zip(cache.layers, prefix.layers, strict=True):
        layer.update(part.keys[rows], part.values[rows])
    return cache


def completion(
    llm: Any, row: Row, gen: list[int], max_tokens: int, stop: tuple[str, ...]
) -> Completion:
    end, ended = len(gen), False
    pad = llm.tokenizer.pad_token_id
    for k, t in enumerate(gen):
        if t in llm.eos_ids:
            # the end-of-sequence token is generated and counted, unless it is the pad (ChatML
            # models: <|im_end|> is both) after a stop string, which generate() pads with
            before = llm.tokenizer.decode(gen[:k]) if t == pad and stop else ""
            stopped = bool(before) and any(s in before for s in stop)
            end, ended = (k if stopped else k + 1), True
            break
        if t == pad:  # generate() pads rows that hit a stop string
            end, ended = k, True
            break
    text = llm.tokenizer.decode(gen[:end], skip_special_tokens=True)
    cut = min((p for p in (text.find(s) for s in stop) if p >= 0), default=-1)
    if cut >= 0:
        text, ended = text[:cut], True
    return Completion(
        text=text,
        index=row.index,
        finish_reason="stop" if ended else "length",
        prompt_tokens=len(row.ids),
        completion_tokens=end,
    )


def static_cache(model: Any, max_len: int) -> Any:
    from transformers import StaticCache

    return StaticCache(config=model.config.get_text_config(decoder=True), max_cache_len=max_len)


def cache_kwarg(model: Any) -> str:
    """transformers renamed generate()'s `past_key_values` to `cache` during 5.x."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def reusable(cache: Any, rows: int, max_len: int) -> bool:
    layer = cache.layers[0] if cache is not None else None
    return bool(
        layer is not None
        and layer.is_initialized
        and layer.keys.shape[0] == rows
        and layer.max_cache_len >= max_len
    )


def round_up(x: int, multiple: int) -> int:
    return -(-x // multiple) * multiple


def free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
