"""Document-masked attention for packed training rows, on PyTorch's built-in varlen flash kernel.

Packed rows hold many examples end to end. The attention must stay inside each example. The
choices in transformers are:

- flash_attention_2: varlen, fast, but needs the flash-attn package. It is a large CUDA build,
  often missing, and is not available offline.
- sdpa: a dense block-diagonal mask. PyTorch's flash kernel cannot take a mask, so SDPA falls back
  to the memory-efficient kernel. That kernel computes every masked block of the row.
- flex_attention: block-sparse but compiled. Its CPU code generation failed here on multi-row
  batches (torch 2.13).

PyTorch itself ships the varlen flash kernel, `torch.nn.attention.varlen.varlen_attn` (CUDA,
bf16/fp16). transformers has no attention function that calls it, so this module registers one
through transformers' documented extension point (`AttentionInterface.register`) under the name
"metamath_varlen". The trainer selects it with `attn_implementation: varlen`, and `auto` picks it
on CUDA when flash-attn is missing.

Each forward passes the document boundaries as `cu_seq_lens_q`/`max_length_q`. The same keyword
arguments serve transformers' flash path. The collator computes them on the CPU, so no
GPU-to-CPU sync happens per layer. Without them, each row is treated as one causal sequence.
That is exact for right-padded rows, the only padding the trainer makes.

Where the kernel cannot run (CPU, fp32, an older torch) the same function computes the same
causal attention one document at a time with SDPA. This is exact and is what the CPU tests
compare against padded training. `varlen_kernel_check` runs the kernel once against that
reference before `auto`, or any call, trusts it on a device.
"""

from __future__ import annotations

import functools
from typing import Any

NAME = "metamath_varlen"
_HALF = ("bfloat16", "float16")


# Model families whose attention layer calls the attention function with plain causal
# self-attention (optionally a sliding window): what this module computes. Others keep sdpa
# under `auto`; `attn_implementation: varlen` can still be set by hand.
_EXACT_FOR = {"llama", "mistral", "qwen2", "qwen3", "gemma", "phi3", "olmo2", "granite"}


def supports(config: Any) -> bool:
    """Whether `auto` may use varlen for a model config (transformers PretrainedConfig)."""
    if getattr(config, "model_type", None) not in _EXACT_FOR:
        return False
    if getattr(config, "attn_logit_softcapping", None) or getattr(config, "attention_dropout", 0.0):
        return False
    return True


def _kernel():
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:  # torch without the varlen module
        return None
    return varlen_attn


def register() -> str:
    """Register the attention function with transformers (idempotent); returns its name."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, varlen_attention_forward)
    return NAME


def _reference(
    q: Any, k: Any, v: Any, cu: list[int], scale: float | None, window: int | None
) -> Any:
    """Causal attention one document at a time: q,k,v (tokens, heads, dim) -> same layout."""
    import torch
    import torch.nn.functional as F

    ordered = all(a <= b for a, b in zip(cu[:-1], cu[1:], strict=True))
    if cu[0] != 0 or cu[-1] != q.shape[0] or not ordered:
        raise ValueError(
            f"document boundaries {cu[:4]}...{cu[-2:]} do not cover the "
            f"{q.shape[0]} tokens of the batch in order"
        )
    gqa = q.shape[1] != k.shape[1]
    out = torch.empty_like(q)
    for s, e in zip(cu[:-1], cu[1:], strict=True):
        if e <= s:
            continue
        qs, ks, vs = (t[s:e].transpose(0, 1).unsqueeze(0) for t in (q, k, v))
        n = e - s
        mask = None
        if window is not None and window < n:
            i = torch.arange(n, device=q.device)
            d = i[:, None] - i[None, :]
            mask = (d >= 0) & (d < window)
        o = F.scaled_dot_product_attention(
            qs, ks, vs, attn_mask=mask, is_causal=mask is None, scale=scale, enable_gqa=gqa
        )
        out[s:e] = o[0].transpose(0, 1)
    return out


def varlen_attention_forward(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    sliding_window: int | None = None,
    softcap: float | None = None,
    s_aux: Any = None,
    cu_seq_lens_q: Any = None,
    max_length_q: int | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """transformers attention interface: query/key/value (batch, heads, tokens, dim) ->
    (batch, tokens, heads, dim). Documents are given by cu_seq_lens_q over the flattened
    batch, else one per row."""
    import torch

    if dropout:
        raise ValueError(
            "attn_implementation=varlen does not support attention dropout; "
            "use attn_implementation=sdpa"
        )
    if softcap is not None or s_aux is not None:
        raise ValueError(
            "attn_implementation=varlen does not support logit soft-capping or "
            "attention sinks; use attn_implementation=sdpa"
        )
    b, hq, t, d = query.shape
    hk = key.shape[1]
    if key.shape[2] != t:
        raise ValueError(
            "attn_implementation=varlen is for training (no KV cache); generate "
            "with sdpa: model.set_attn_implementation('sdpa')"
        )
    dev = query.device.type
    if torch.is_autocast_enabled(dev):
        # Under autocast with fp32 weights, rotary embeddings turn q and k back into fp32 while v
        # stays in the autocast dtype; attention runs in the autocast dtype, as SDPA would
        # (transformers' flash path does the same).
        dt = torch.get_autocast_dtype(dev)
        query, key, value = query.to(dt), key.to(dt), value.to(dt)
    q = query.transpose(1, 2).reshape(b * t, hq, d)
    k = key.transpose(1, 2).reshape(b * t, hk, d)
    v = value.transpose(1, 2).reshape(b * t, hk, d)
    if cu_seq_lens_q is None:
        cu = torch.arange(0, (b + 1) * t, t, dtype=torch.int32, device=q.device)
        max_len = t
    else:
        cu = cu_seq_lens_q.to(device=q.device, dtype=torch.int32)
        max_len = int(max_length_q) if max_length_q is not None else t
    window = int(sliding_window) if sliding_window else None
    if (
        _kernel() is not None
        and q.is_cuda
        and str(q.dtype).split(".")[-1] in _HALF
        and _kernel_usable(str(q.device))
    ):
        out = _call_kernel(q, k, v, cu, max_len, scaling, window)
    else:
        out = _reference(q, k, v, cu.tolist(), scaling, window)
    return out.view(b, t, hq, d), None


def _call_kernel(
    q: Any, k: Any, v: Any, cu: Any, max_len: int, scale: float | None, window: int | None
) -> Any:
    """varlen_attn across torch versions: 2.10 takes is_causal and no scale/GQA/window; later
    versions express causality as window_size=(left, 0) and take scale and enable_gqa."""
    kernel = _kernel()
    params = _params(kernel)
    kw: dict[str, Any] = {}
    if "window_size" in params:
        kw["window_size"] = (window - 1 if window else -1, 0)
    elif window:
        return _reference(q, k, v, cu.tolist(), scale, window)  # no sliding window there
    else:
        kw["is_causal"] = True
    if q.shape[1] != k.shape[1]:
        if "enable_gqa" in params:
            kw["enable_gqa"] = True
        else:
            rep = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    if scale is not None:
        if "scale" in params:
            kw["scale"] = scale
        else:  # the kernel's own scale is 1/sqrt(head_dim)
            q = q * (scale * q.shape[-1] ** 0.5)
    return kernel(q, k, v, cu, cu, max_len, max_len, **kw)


@functools.lru_cache(maxsize=2)
def _params(fn: Any) -> frozenset[str]:
    import inspect

    return frozenset(inspect.signature(fn).parameters)


@functools.lru_cache(maxsize=8)
def _kernel_usable(device: str) -> bool:
    ok, why = varlen_kernel_check(device)
    if not ok:
        import logging

        logging.getLogger(__name__).warning(
            "attn_implementation=varlen: the CUDA kernel is not usable on %s (%s); computing "
            "attention one example at a time with SDPA instead (exact, slower)",
            device,
            why,
        )
    return ok


@functools.lru_cache(maxsize=8)
def varlen_kernel_check(device: str = "cuda") -> tuple[bool, str]:
    """Run the kernel once (forward and backward, GQA, two documents) against the reference.
    Returns (usable, reason)."""
    import torch

    kernel = _kernel()
    if kernel is None:
        return False, f"torch {torch.__version__} has no torch.nn.attention.varlen"
    if not torch.cuda.is_available():
        return False, "no CUDA device"
    # It may first run inside a model's forward: under no_grad or autocast, neither of which
    # must change the check.
    dev_type = torch.device(device).type
    with torch.enable_grad(), torch.autocast(dev_type, enabled=False):
        return _check(device)


def _check(device: str) -> tuple[bool, str]:
    import torch

    try:
        g = torch.Generator(device=device).manual_seed(0)
        q, k, v = (
            torch.randn(
                96, h, 64, device=device, dtype=torch.bfloat16, generator=g
            ).requires_grad_()
            for h in (4, 2, 2)
        )
        cu = torch.tensor([0, 40, 96], dtype=torch.int32, device=device)
        # plain causal, then a sliding window with an explicit scale (Mistral, Granite)
        for scale, window in ((None, None), (0.3, 5)):
            for t in (q, k, v):
                t.grad = None
            out = _call_kernel(q, k, v, cu, 56, scale, window)
            w = torch.randn(out.shape, device=device, generator=g)
            (out.float() * w).sum().backward()
            qr, kr, vr = (t.detach().float().requires_grad_() for t in (q, k, v))
            ref = _reference(qr, kr, vr, [0, 40, 96], scale, window)
            (ref * w).sum().backward()
            for name, got, want in (
                ("output", out, ref),
                ("dq", q.grad, qr.grad),
                ("dk", k.grad, kr.grad),
                ("dv", v.grad, vr.grad),
            ):
                err = ((got.float() - want).abs().max() / (want.abs().max() + 1e-6)).item()
                if not err < 3e-2:
                    return False, (
                        f"varlen kernel disagrees with the reference ({name}, "
                        f"window {window}: relative error {err:.3g})"
                    )
        return True, "ok"
    except Exception as e:  # any failure means: do not use it, say why
        return False, f"varlen kernel failed: {type(e).__name__}: {str(e)[:200]}"
